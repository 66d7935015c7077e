package com.ecloud.compute.api.runtime;

/**
 * Where a container's port can be reached from the platform's host.
 *
 * @param host an address of this machine (e.g. 127.0.0.1)
 * @param port a TCP port
 */
public record HostEndpoint(String host, int port) {
}
