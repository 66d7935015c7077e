/**
 * What the gateways (SSH, ingress) may reach of a container: only through its runtime, and only for its
 * owner's keys and rules.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package com.ecloud.compute.api.access;
