/**
 * The ingress router contract: what the gateway does when ingress rules change.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package com.ecloud.compute.api.ingress;
