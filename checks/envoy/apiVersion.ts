/**
 * The Envoy release whose v3 API the installed protos match. The package does not record the
 * data-plane-api commit it vendors, so this is read from the protos themselves: they have every
 * API addition of Envoy v1.31.0 and none of v1.32.0 (tests/checks/envoy checks both).
 * The Envoy image the project deploys must be this release or newer: a newer Envoy still
 * accepts everything these protos accept, except fields it has since removed.
 */
export const ENVOY_API_VERSION = "1.31";

/** The package release the version above was determined for; a different one needs a re-check. */
export const API_PACKAGE_RELEASE = "1.14.1";
