// @tributary/connector-zoom is not built yet; see README.md for what is coming.
export {};
