/**
 * Persistence contracts: containers (with their mount paths and key attachments), SSH keys, ingress rules.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package com.ecloud.compute.api.store;
