// @tributary/connector-upload is not built yet; see README.md for what is coming.
export {};
