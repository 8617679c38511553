// jco bundles index.js and zoom.js into the one ES module componentize-js takes.
// The card contract's interfaces are the host's imports, not files to resolve.
export default {
  external: [/^lanyard:card\//],
};
