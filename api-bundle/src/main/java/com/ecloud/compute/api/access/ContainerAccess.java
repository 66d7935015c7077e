package com.ecloud.compute.api.access;

import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

import com.ecloud.compute.api.runtime.ExecListener;
import com.ecloud.compute.api.runtime.ExecSession;
import com.ecloud.compute.api.runtime.ExecSpec;
import com.ecloud.compute.api.runtime.HostEndpoint;

/**
 * The platform's door for gateways: they reach a container through its runtime only, after checking its owner's
 * credentials with {@link #sshTarget}. Methods throw {@link AccessRefusedException} with a message a user can act
 * on (not running, runtime away), and the runtime SPI's exceptions for engine failures.
 */
@ProviderType
public interface ContainerAccess {

    /** The container's SSH facts; empty when there is no such container. */
    Optional<SshTarget> sshTarget(String containerId);

    /** Runs a process in a running container, as {@link com.ecloud.compute.api.runtime.ContainerRuntime#exec}. */
    ExecSession exec(String containerId, ExecSpec spec, ExecListener listener);

    /** An address on this host that reaches {@code port} of a running container. */
    HostEndpoint expose(String containerId, int port);

    /** The platform's domain: containers are {@code <id>.compute.<domain>}, its API {@code compute.<domain>}. */
    String domain();
}
