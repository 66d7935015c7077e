/**
 * The runtime SPI: what a container engine (Docker, LXD, ...) must provide to the platform. One {@link com.ecloud.compute.api.runtime.ContainerRuntime} service per host.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package com.ecloud.compute.api.runtime;
