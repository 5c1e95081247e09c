// @tributary/connector-url is not built yet; see README.md for what is coming.
export {};
