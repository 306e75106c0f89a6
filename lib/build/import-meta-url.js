// Lets bundled CommonJS code keep using import.meta.url (createRequire, file paths).
export const __tscniImportMetaUrl = require('node:url').pathToFileURL(__filename).href;
