package com.ecloud.compute.api.runtime;

import java.io.Closeable;
import java.time.Duration;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A container engine on one host: the runtime SPI. One service is registered per host, with the service
 * properties {@link #TYPE}, {@link #HOST} and {@link #ARCH}.
 *
 * <p>Containers are named by the platform's container id; the runtime keeps the mapping to its own objects
 * (labels on Docker, instance names on LXD), so every operation can be retried after a crash of the platform.
 *
 * <p>Contract for implementers:
 * <ul>
 * <li>{@link #create}, {@link #start}, {@link #stop}, {@link #remove} and {@link #removeStorage} are idempotent:
 * doing what is already done succeeds.</li>
 * <li>Operations may block for as long as the engine needs; the platform calls them from its own executors.</li>
 * <li>Failures are the typed {@link RuntimeFailure} subclasses: {@link RuntimeNotFoundException},
 * {@link RuntimeUnavailableException} (retry later), {@link RuntimeRejectedException} (retrying will not help),
 * {@link RuntimeUnsupportedException}.</li>
 * <li>Unregistering the service (the bundle stops) must never stop or remove containers.</li>
 * </ul>
 */
@ProviderType
public interface ContainerRuntime {

    /** Service property: the kind of engine, e.g. "docker" or "lxd". */
    String TYPE = "runtime.type";
    /** Service property: the host name this service manages, unique among runtimes. */
    String HOST = "runtime.host";
    /** Service property: the arches this host runs, as {@code Arch.id()} strings. */
    String ARCH = "runtime.arch";

    /** The kind of engine, e.g. "docker". */
    String type();

    /** The host this service manages, unique among all runtime services. */
    String host();

    /** What the host offers now: arches, CPUs, memory and health. Cheap enough to call often. */
    Fingerprint fingerprint();

    /**
     * Creates the container (not started) and its storage, which is kept when the container is removed and
     * created again with {@link #remove} + {@code create}. Idempotent: an existing container of that id is left
     * as it is.
     */
    void create(ContainerSpec spec);

    /** Starts it; starting a running container succeeds. */
    void start(String containerId);

    /**
     * Stops it: a signal to its main process, then a kill after {@code grace}; returns once it has stopped.
     * Stopping a stopped container succeeds; stopping one the engine does not have is
     * {@link RuntimeNotFoundException}.
     */
    void stop(String containerId, Duration grace);

    /**
     * Removes the container (stopping it first), keeping its storage and its log: a container created again with
     * the same id shows the earlier lines before its own in {@link #logs}. Removing a missing one succeeds.
     */
    void remove(String containerId);

    /**
     * Removes the container's storage and kept log (and the container first, if it still exists). Removing
     * missing storage succeeds.
     */
    void removeStorage(String containerId);

    /** The engine's view of one container; {@link RuntimeNotFoundException} when it has none of that id. */
    RuntimeState inspect(String containerId);

    /** Every container of the platform on this host, for reconciliation. */
    List<RuntimeState> list();

    /**
     * Ids of the containers that have storage on this host, with or without an engine container (an interrupted
     * create can leave storage alone), so that the platform can remove what it does not know.
     *
     * @since 1.1
     */
    default List<String> storageIds() {
        return List.of();
    }

    /** Current resource use of a container. */
    Usage usage(String containerId);

    /**
     * Streams the container's log (what its main process writes to stdout and stderr, including what earlier
     * containers of the same id wrote before a {@link #remove}): the last {@code request.tail()} lines (all of them
     * when negative), then new lines while {@code request.follow()}.
     * Lines reach the listener in order on a thread of the runtime's; closing the returned handle stops reading
     * from the engine.
     */
    Closeable logs(String containerId, LogRequest request, LogListener listener);

    /**
     * Runs a process inside a running container. Output reaches the listener on a thread of the runtime's;
     * {@link ExecListener#onExit} is called once, last.
     */
    ExecSession exec(String containerId, ExecSpec spec, ExecListener listener);

    /**
     * Subscribes to lifecycle events of the platform's containers on this host, from the engine's event
     * stream (not polling). Closing the handle unsubscribes.
     */
    Closeable events(RuntimeEventListener listener);

    /**
     * A host endpoint on which {@code port} of the container can be reached from this machine (a loopback
     * address on a local engine). It can be asked for any existing container; connections fail while the
     * container is not running; the same endpoint is returned until the container is removed.
     */
    HostEndpoint expose(String containerId, int port);

    /**
     * Writes a file inside the container (created or running), creating its parent directories, owned by root
     * with the given permission bits; used for authorized_keys.
     */
    void writeFile(String containerId, String path, byte[] content, int mode);
}
