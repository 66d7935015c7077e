/**
 * Value types of the Compute API: containers, SSH keys, ingress rules, instance types and statuses.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package com.ecloud.compute.api.model;
