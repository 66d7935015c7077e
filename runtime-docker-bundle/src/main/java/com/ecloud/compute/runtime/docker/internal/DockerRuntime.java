package com.ecloud.compute.runtime.docker.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.api.runtime.ContainerSpec;
import com.ecloud.compute.api.runtime.ExecListener;
import com.ecloud.compute.api.runtime.ExecSession;
import com.ecloud.compute.api.runtime.ExecSpec;
import com.ecloud.compute.api.runtime.Fingerprint;
import com.ecloud.compute.api.runtime.Health;
import com.ecloud.compute.api.runtime.HostEndpoint;
import com.ecloud.compute.api.runtime.LogLine;
import com.ecloud.compute.api.runtime.LogListener;
import com.ecloud.compute.api.runtime.LogRequest;
import com.ecloud.compute.api.runtime.RuntimeEventListener;
import com.ecloud.compute.api.runtime.RuntimeFailure;
import com.ecloud.compute.api.runtime.RuntimeNotFoundException;
import com.ecloud.compute.api.runtime.RuntimeRejectedException;
import com.ecloud.compute.api.runtime.RuntimeState;
import com.ecloud.compute.api.runtime.RuntimeUnavailableException;
import com.ecloud.compute.api.runtime.RuntimeUnsupportedException;
import com.ecloud.compute.api.runtime.Usage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.ExecCreateCmdResponse;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.command.LogContainerCmd;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Info;
import com.github.dockerjava.api.model.LogConfig;
import com.github.dockerjava.api.model.Mount;
import com.github.dockerjava.api.model.MountType;
import com.github.dockerjava.api.model.RestartPolicy;
import com.github.dockerjava.api.model.StreamType;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;

/**
 * The runtime SPI on one Docker engine (docker-java over HttpClient 5), one component per factory configuration
 * of {@value #PID}.
 *
 * <p>The component is not a DS service: it registers its {@link ContainerRuntime} service itself, with the
 * arches it learns from the engine (see {@link ServicePublisher}). Deactivation closes streams, exec sessions,
 * relays and the client, and never stops a container.
 *
 * <p>What a container gets: name {@code ecloud-<id>}, hostname {@code <id>}, labels {@value #LABEL_ID},
 * {@value #LABEL_OWNER}, {@value #LABEL_MANAGED}=true; CPU as a CFS quota, memory without swap, a pids limit,
 * an init as PID 1 (the image's command, or an idle process), no-new-privileges, the engine's default seccomp
 * profile and capabilities, no privileges, restart policy unless-stopped, and one loop-file volume for all its
 * mount paths (see {@link LoopVolumes}).
 */
@Component(configurationPid = DockerRuntime.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {},
        immediate = true)
@Designate(ocd = DockerRuntime.Config.class, factory = true)
public final class DockerRuntime implements ContainerRuntime, AutoCloseable {

    /** Factory PID: one configuration per Docker host. */
    public static final String PID = "com.ecloud.compute.runtime.docker";
    static final String TYPE_DOCKER = "docker";
    static final String LABEL_ID = "ecloud.container.id";
    static final String LABEL_OWNER = "ecloud.owner";
    static final String LABEL_MANAGED = "ecloud.managed";
    /**
     * The platform that made the container: platforms sharing an engine never take each other's containers for
     * theirs (nor remove them as orphans). Containers without it (made before it existed) count as anyone's.
     */
    static final String LABEL_PLATFORM = "ecloud.platform";
    /** Framework property with this platform's id (set by the launcher from {@code <data>/state/platform-id}). */
    static final String PLATFORM_ID_PROPERTY = "ecloud.platform.id";
    static final String NAME_PREFIX = "ecloud-";

    @ObjectClassDefinition(name = "ecloud Docker runtime",
            description = "One Docker engine that runs the platform's containers")
    public @interface Config {
        @AttributeDefinition(description = "Host name of this runtime, unique among all runtimes")
        String host_name() default "local";

        @AttributeDefinition(description = "Engine address: unix:///path/to/docker.sock (a local engine) or tcp://host:port")
        String docker_host() default "unix:///var/run/docker.sock";

        @AttributeDefinition(description = "Engine API version to speak (the daemon may be older than the client)")
        String api_version() default "1.41";

        @AttributeDefinition(description = "Where the per-container volume images live; empty for <ecloud.data>/volumes")
        String storage_dir() default "";

        @AttributeDefinition(description = "Most processes a container may have")
        int pids_limit() default 512;

        @AttributeDefinition(description = "Seconds between SIGTERM and SIGKILL when the engine stops a container on its own (remove, engine shutdown)")
        int stop_grace_seconds() default 10;

        @AttributeDefinition(description = "Image references must start with one of these; empty allows all")
        String[] images_allowed_prefixes() default {};

        @AttributeDefinition(description = "Registries (host:port) this engine may pull a missing image from; "
                + "references without one of these hosts are never pulled (never Docker Hub)")
        String[] registries_pull() default {"127.0.0.1:5000"};
    }

    private static final Logger LOG = LoggerFactory.getLogger(DockerRuntime.class);
    private static final long MIB = 1024L * 1024;
    private static final Duration PROBE_INTERVAL = Duration.ofSeconds(15);
    private static final Duration RETRY_PROBE_AFTER = Duration.ofSeconds(2);
    /** Cap of the log kept across re-creations (the oldest lines go past it); the engine keeps 30 MB per container. */
    private static final long LOG_ARCHIVE_MAX_BYTES = 8L << 20;
    private static final long LOG_READ_SECONDS = 60;
    private static final Pattern CONTAINER_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Pattern MOUNT_PATH = Pattern.compile("(/[A-Za-z0-9._@+-]+)+");
    /** Kernel file systems the engine mounts itself: a volume cannot replace them. */
    private static final List<String> SYSTEM_PATHS = List.of("/proc", "/sys", "/dev");
    /** Keeps an image without a command running; ends at once on SIGTERM (which the init passes on). */
    static final String IDLE = "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done";
    private static final Set<String> INTERACTIVE_SHELLS = Set.of("sh", "bash", "ash", "dash", "zsh", "ksh", "mksh");

    /** This platform's id; null: no scoping. */
    private final String platformId;
    private final String host;
    private final URI dockerHost;
    private final boolean localEngine;
    private final String apiVersion;
    private final int pidsLimit;
    private final int stopGraceSeconds;
    private final List<String> allowedImagePrefixes;
    private final Set<String> pullRegistries;
    private final Path seedCache;
    /** Image content at a mount path larger than this is copied per create instead of kept. */
    private static final long MAX_CACHED_SEED_BYTES = 16L << 20;
    private final DockerHttpClient httpClient;
    private final DockerClient client;
    private final DockerHttpClient probeHttpClient;
    private final DockerClient probeClient;
    private final EngineSocket engineSocket;
    private final LoopVolumes volumes;
    private final LogArchive logArchive;
    private final ProcessReaper reaper;
    private final ObjectMapper json = new ObjectMapper();
    private final ScheduledExecutorService scheduler;
    private final ExecutorService io;
    private final ServicePublisher publisher;
    private final Map<String, PortRelay> relays = new ConcurrentHashMap<>();
    private final Set<EventSubscription> subscriptions = ConcurrentHashMap.newKeySet();
    private final Set<DockerExecSession> sessions = ConcurrentHashMap.newKeySet();
    private final Set<LogStream> logStreams = ConcurrentHashMap.newKeySet();
    private final Object probeLock = new Object();
    private volatile EngineFacts facts = EngineFacts.undetected("the engine was not asked yet");
    private volatile long lastProbeNanos = System.nanoTime() - RETRY_PROBE_AFTER.toNanos() - 1;
    private volatile boolean closed;

    /** What the last probe learnt about the engine. */
    private record EngineFacts(Health health, String reason, Set<Arch> arches, int cpus, long memoryMb) {
        static EngineFacts undetected(String reason) {
            return new EngineFacts(Health.UNDETECTED, reason, Set.of(), 0, 0);
        }

        EngineFacts failed(String why) {
            // once reached, a failure is UNHEALTHY; before that the engine stays UNDETECTED
            return new EngineFacts(health == Health.UNDETECTED ? Health.UNDETECTED : Health.UNHEALTHY, why, arches,
                    cpus, memoryMb);
        }
    }

    /** Activated by DS for each factory configuration. */
    @Activate
    public DockerRuntime(Config config, BundleContext context) {
        this(config, dataDirectory(context.getProperty("ecloud.data")), context.getProperty(PLATFORM_ID_PROPERTY),
                new ServicePublisher(context));
    }

    /**
     * A runtime outside OSGi (tests, tools): nothing is registered, and it takes every container of the platform's
     * labels for its own.
     *
     * @param dataDirectory the platform's data directory, for the default {@code storage.dir}
     */
    public DockerRuntime(Config config, Path dataDirectory) {
        this(config, dataDirectory, null, null);
    }

    /** As {@link #DockerRuntime(Config, Path)}, for the platform {@code platformId} (tests of the scoping). */
    DockerRuntime(Config config, Path dataDirectory, String platformId) {
        this(config, dataDirectory, platformId, null);
    }

    private DockerRuntime(Config config, Path dataDirectory, String platformId, ServicePublisher publisher) {
        this.platformId = platformId == null || platformId.isBlank() ? null : platformId.trim();
        this.host = config.host_name();
        this.dockerHost = URI.create(config.docker_host());
        this.localEngine = "unix".equalsIgnoreCase(dockerHost.getScheme());
        this.apiVersion = config.api_version();
        this.pidsLimit = config.pids_limit();
        this.stopGraceSeconds = Math.max(0, config.stop_grace_seconds());
        this.pullRegistries = Arrays.stream(config.registries_pull()).map(String::trim).filter(r -> !r.isEmpty())
                .collect(java.util.stream.Collectors.toUnmodifiableSet());
        this.allowedImagePrefixes = Arrays.stream(config.images_allowed_prefixes()).map(String::trim)
                .filter(p -> !p.isEmpty()).toList();
        String storageDir = config.storage_dir() == null ? "" : config.storage_dir().trim();
        this.volumes = new LoopVolumes(storageDir.isEmpty() ? dataDirectory.resolve("volumes") : Path.of(storageDir));
        // beside the volumes, not among them (every directory there is taken for a container's volume)
        this.seedCache = volumes.root().toAbsolutePath().resolveSibling(volumes.root().getFileName() + "-image-seeds");
        this.logArchive = new LogArchive(volumes.root().toAbsolutePath()
                .resolveSibling(volumes.root().getFileName() + "-logs"), LOG_ARCHIVE_MAX_BYTES);
        this.reaper = new ProcessReaper(localEngine);
        this.engineSocket = new EngineSocket(dockerHost, apiVersion);

        DefaultDockerClientConfig clientConfig = new DefaultDockerClientConfig.Builder()
                .withDockerHost(config.docker_host())
                .withApiVersion(apiVersion)
                .withDockerTlsVerify(false)
                .build();
        // no response timeout: logs, events and stop (up to its grace) legitimately take long
        this.httpClient = new ApacheDockerHttpClient.Builder()
                .dockerHost(dockerHost)
                .maxConnections(256)
                .connectionTimeout(Duration.ofSeconds(5))
                .build();
        this.client = DockerClientImpl.getInstance(clientConfig, httpClient);
        // the health probe must not hang on a stuck engine
        this.probeHttpClient = new ApacheDockerHttpClient.Builder()
                .dockerHost(dockerHost)
                .maxConnections(2)
                .connectionTimeout(Duration.ofSeconds(5))
                .responseTimeout(Duration.ofSeconds(10))
                .build();
        this.probeClient = DockerClientImpl.getInstance(clientConfig, probeHttpClient);

        this.scheduler = Executors.newScheduledThreadPool(2, threads("ecloud-docker-" + host));
        this.io = Executors.newCachedThreadPool(threads("ecloud-docker-io-" + host));
        this.publisher = publisher;
        if (publisher != null) publisher.publish(this, Set.of());
        if (localEngine) scheduler.execute(volumes::mountAll); // after a reboot, before the engine restarts them
        scheduler.scheduleWithFixedDelay(this::probe, 0, PROBE_INTERVAL.toSeconds(), TimeUnit.SECONDS);
    }

    /** Bundle stopped or configuration deleted: release everything, leave every container as it is. */
    @Deactivate
    public void close() {
        closed = true;
        if (publisher != null) publisher.withdraw();
        subscriptions.forEach(EventSubscription::close);
        logStreams.forEach(LogStream::close);
        sessions.forEach(DockerExecSession::close);
        relays.values().forEach(PortRelay::close);
        relays.clear();
        scheduler.shutdownNow();
        io.shutdownNow();
        for (Closeable closeable : List.of(client, probeClient, httpClient, probeHttpClient)) {
            try {
                closeable.close();
            } catch (IOException e) {
                LOG.debug("closing the Docker client: {}", e.toString());
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Host
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public String type() {
        return TYPE_DOCKER;
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public Fingerprint fingerprint() {
        EngineFacts current = facts;
        if (current.health() != Health.HEALTHY && System.nanoTime() - lastProbeNanos > RETRY_PROBE_AFTER.toNanos()) {
            probe(); // not healthy: ask again now rather than report old news
            current = facts;
        }
        return new Fingerprint(TYPE_DOCKER, host, current.arches(), current.cpus(), current.memoryMb(),
                current.health(), current.health() == Health.HEALTHY ? null : current.reason());
    }

    /** Asks the engine for its facts; publishes the arches when they changed. */
    private void probe() {
        if (closed) return;
        synchronized (probeLock) {
            try {
                Info info = probeClient.infoCmd().exec();
                Set<Arch> arches = ArchDetection.detect(info.getArchitecture(),
                        localEngine ? ArchDetection.BINFMT_MISC : null);
                int cpus = info.getNCPU() == null ? 0 : info.getNCPU();
                long memoryMb = info.getMemTotal() == null ? 0 : info.getMemTotal() / MIB;
                if (facts.health() != Health.HEALTHY) LOG.info("Docker engine {} reached: arches {}", host, arches);
                facts = new EngineFacts(Health.HEALTHY, null, arches, cpus, memoryMb);
                if (publisher != null && !closed) publisher.publish(this, arches);
            } catch (RuntimeException e) {
                String why = EngineErrors.unreachable(e)
                        ? "the Docker engine at " + dockerHost + " cannot be reached: " + EngineErrors.rootMessage(e)
                        : "the Docker engine at " + dockerHost + " fails: " + EngineErrors.engineMessage(e);
                if (facts.health() == Health.HEALTHY) LOG.warn("{}", why);
                facts = facts.failed(why);
            } finally {
                lastProbeNanos = System.nanoTime();
            }
        }
    }

    /** Something suggests the engine changed (an event stream broke): check it now. */
    private void probeSoon() {
        try {
            scheduler.execute(this::probe);
        } catch (RuntimeException shuttingDown) {
            // closed meanwhile
        }
    }

    /** An operation could not reach the engine: report it unhealthy now and check again soon. */
    private void engineLost(Throwable error) {
        EngineFacts current = facts;
        if (current.health() == Health.HEALTHY) {
            facts = current.failed("the Docker engine at " + dockerHost + " cannot be reached: "
                    + EngineErrors.rootMessage(error));
            try {
                scheduler.schedule(this::probe, 1, TimeUnit.SECONDS);
            } catch (RuntimeException shuttingDown) {
                // closed meanwhile
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Lifecycle
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public void create(ContainerSpec spec) {
        validate(spec);
        String id = spec.containerId();
        if (findContainer(id).isPresent()) {
            ensureStorageMounted(id);
            return; // idempotent: an existing container is left as it is
        }
        InspectImageResponse image = imageFor(spec);
        Optional<Arch> imageArch = Arch.parse(image.getArch());
        if (imageArch.isPresent() && imageArch.get() != spec.arch()) {
            throw new RuntimeRejectedException("image " + spec.image() + " is for " + imageArch.get().id() + ", not "
                    + spec.arch().id());
        }
        Set<Arch> arches = facts.arches();
        if (!arches.isEmpty() && !arches.contains(spec.arch())) {
            throw new RuntimeUnsupportedException("host " + host + " does not run " + spec.arch().id());
        }
        List<Mount> mounts = prepareStorage(spec, image.getId());

        Map<String, String> labels = new LinkedHashMap<>(spec.labels());
        labels.put(LABEL_ID, id);
        labels.put(LABEL_OWNER, spec.ownerId());
        labels.put(LABEL_MANAGED, "true");
        if (platformId != null) labels.put(LABEL_PLATFORM, platformId);
        HostConfig hostConfig = HostConfig.newHostConfig()
                // a CFS quota, not NanoCpus: the engine refuses more CPUs than the host has, a quota it accepts
                .withCpuPeriod(100_000L)
                .withCpuQuota(spec.cpuMillis() * 100L)
                .withMemory(spec.memoryMb() * MIB)
                .withMemorySwap(spec.memoryMb() * MIB) // equal: no swap beyond the limit
                .withPidsLimit((long) pidsLimit)
                .withInit(true)
                .withPrivileged(false)
                .withSecurityOpts(List.of("no-new-privileges:true"))
                .withRestartPolicy(RestartPolicy.unlessStoppedRestart())
                .withMounts(mounts)
                .withNetworkMode("bridge")
                // bounded logs: a chatty container must not fill the host's disk
                .withLogConfig(new LogConfig(LogConfig.LoggingType.JSON_FILE, Map.of("max-size", "10m", "max-file", "3")));
        run("create " + id, () -> {
            CreateContainerCmd create = client.createContainerCmd(spec.image())
                    .withName(NAME_PREFIX + id)
                    .withHostName(id)
                    .withLabels(labels)
                    .withPlatform("linux/" + spec.arch().id())
                    .withStopTimeout(stopGraceSeconds)
                    .withHostConfig(hostConfig);
            if (image.getConfig() == null || !runsOwnCommand(image.getConfig().getCmd(), image.getConfig().getEntrypoint())) {
                create.withCmd("/bin/sh", "-c", IDLE);
            }
            try {
                create.exec();
            } catch (ConflictException concurrentCreate) {
                // the name is taken: a concurrent create of the same id won
                if (findContainer(id).isPresent()) return;
                throw concurrentCreate;
            }
        });
        if (!spec.authorizedKeys().isEmpty()) {
            String keys = String.join("\n", spec.authorizedKeys()) + "\n";
            try {
                byte[] content = keys.getBytes(StandardCharsets.UTF_8);
                if (!writeKeysOnVolume(spec, content)) writeFile(id, "/root/.ssh/authorized_keys", content, 0600);
            } catch (RuntimeFailure e) {
                // without its keys the container is not what was asked for: a retry must create it again
                removeQuietly(id);
                throw e;
            }
        }
    }

    @Override
    public void start(String containerId) {
        InspectContainerResponse container = requireContainer(containerId);
        ensureStorageMounted(containerId);
        verifyMountSources(container);
        run("start " + containerId, () -> {
            try {
                client.startContainerCmd(container.getId()).exec();
            } catch (NotModifiedException alreadyRunning) {
                // idempotent
            }
        });
    }

    @Override
    public void stop(String containerId, Duration grace) {
        int seconds = (int) Math.min(Integer.MAX_VALUE, Math.max(0, (grace.toMillis() + 999) / 1000));
        run("stop " + containerId, () -> {
            try {
                // the engine answers once the container has stopped (SIGTERM, then SIGKILL after the grace)
                client.stopContainerCmd(NAME_PREFIX + containerId).withTimeout(seconds).exec();
            } catch (NotModifiedException alreadyStopped) {
                // idempotent
            }
        });
    }

    @Override
    public void remove(String containerId) {
        remove(containerId, true);
    }

    private void remove(String containerId, boolean keepLog) {
        try {
            if (findContainer(containerId).isEmpty()) return;
            try {
                stop(containerId, Duration.ofSeconds(stopGraceSeconds));
            } catch (RuntimeNotFoundException gone) {
                return;
            }
            if (keepLog) archiveLog(containerId);
            run("remove " + containerId, () -> {
                try {
                    client.removeContainerCmd(NAME_PREFIX + containerId).withForce(true).withRemoveVolumes(false).exec();
                } catch (NotFoundException alreadyGone) {
                    // idempotent
                } catch (ConflictException removalInProgress) {
                    awaitGone(containerId);
                }
            });
        } finally {
            closeRelays(containerId);
        }
    }

    @Override
    public void removeStorage(String containerId) {
        requireValidId(containerId);
        // the volume cannot go while a container still mounts it; its log goes too, so it is not kept first
        remove(containerId, false);
        try {
            logArchive.delete(containerId);
        } catch (IOException e) {
            throw new RuntimeUnavailableException("cannot remove the kept log of " + containerId + ": " + e.getMessage(), e);
        }
        if (!localEngine) return; // a remote engine's containers have no volumes of ours
        try {
            volumes.delete(containerId);
        } catch (IOException e) {
            throw new RuntimeUnavailableException("cannot remove the storage of " + containerId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public RuntimeState inspect(String containerId) {
        return state(containerId, requireContainer(containerId));
    }

    @Override
    public List<String> storageIds() {
        List<String> ids = new ArrayList<>();
        if (!Files.isDirectory(volumes.root())) return ids;
        try (java.nio.file.DirectoryStream<Path> dirs = Files.newDirectoryStream(volumes.root())) {
            for (Path dir : dirs) {
                String name = dir.getFileName().toString();
                if (CONTAINER_ID.matcher(name).matches() && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) ids.add(name);
            }
        } catch (IOException e) {
            throw new RuntimeUnavailableException("cannot list the volumes of host " + host + ": " + e.getMessage(), e);
        }
        return ids;
    }

    @Override
    public List<RuntimeState> list() {
        return call("list", () -> {
            List<RuntimeState> states = new ArrayList<>();
            for (com.github.dockerjava.api.model.Container c : client.listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of(LABEL_MANAGED, "true")).exec()) {
                String id = c.getLabels() == null ? null : c.getLabels().get(LABEL_ID);
                if (id == null || !ours(c.getLabels())) continue;
                try {
                    states.add(state(id, client.inspectContainerCmd(c.getId()).exec()));
                } catch (NotFoundException removedMeanwhile) {
                    // gone between list and inspect
                }
            }
            return states;
        });
    }

    @Override
    public Usage usage(String containerId) {
        requireValidId(containerId);
        InspectContainerResponse container = call("usage " + containerId,
                () -> client.inspectContainerCmd(NAME_PREFIX + containerId).withSize(true).exec());
        requireManaged(containerId, container);
        long rootfs = container.getSizeRw() == null ? 0 : container.getSizeRw();
        boolean running = Boolean.TRUE.equals(container.getState().getRunning());
        long memory = running ? memoryUsed(container.getId()) : 0;
        long storage = 0;
        if (localEngine) {
            try {
                storage = volumes.usedBytes(containerId);
            } catch (IOException e) {
                throw new RuntimeUnavailableException("cannot measure the storage of " + containerId + ": " + e.getMessage(), e);
            }
        }
        return new Usage(memory, storage, rootfs);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Streams
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public Closeable logs(String containerId, LogRequest request, LogListener listener) {
        InspectContainerResponse container = requireContainer(containerId);
        LogStream stream = new LogStream(listener);
        logStreams.add(stream);
        if (!logArchive.has(containerId) || request.tail() == 0) {
            streamEngineLog(containerId, container.getId(), request, stream);
            return stream;
        }
        // lines kept from earlier engine containers come first, as many as the engine's own log leaves to tail
        io.execute(() -> {
            try {
                int earlier = request.tail() < 0 ? -1
                        : request.tail() - engineLog(container.getId(), request.tail()).size();
                if (earlier != 0) stream.replay(logArchive.tail(containerId, earlier));
                streamEngineLog(containerId, container.getId(), request, stream);
            } catch (IOException | RuntimeException e) {
                stream.onError(e);
            }
        });
        return stream;
    }

    private void streamEngineLog(String containerId, String engineId, LogRequest request, LogStream stream) {
        try {
            LogContainerCmd command = client.logContainerCmd(engineId)
                    .withStdOut(true)
                    .withStdErr(true)
                    .withTimestamps(true)
                    .withFollowStream(request.follow());
            if (request.tail() >= 0) {
                command.withTail(request.tail());
            } else {
                command.withTailAll();
            }
            command.exec(stream);
        } catch (RuntimeException e) {
            logStreams.remove(stream);
            throw failure("logs " + containerId, e);
        }
    }

    /** The engine container's log as it is now: its last {@code tail} lines (all when negative). */
    private List<LogLine> engineLog(String engineId, int tail) {
        List<LogLine> lines = new ArrayList<>();
        LogDecoder decoder = new LogDecoder(lines::add);
        LogContainerCmd command = client.logContainerCmd(engineId).withStdOut(true).withStdErr(true)
                .withTimestamps(true).withFollowStream(false);
        if (tail >= 0) {
            command.withTail(tail);
        } else {
            command.withTailAll();
        }
        try {
            ResultCallback.Adapter<Frame> done = command.exec(new ResultCallback.Adapter<Frame>() {
                @Override
                public void onNext(Frame frame) {
                    decoder.accept(frame.getStreamType() == StreamType.STDERR, frame.getPayload());
                }
            });
            if (!done.awaitCompletion(LOG_READ_SECONDS, TimeUnit.SECONDS)) {
                done.close();
                throw new RuntimeUnavailableException("reading the log of " + engineId + " took over " + LOG_READ_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeUnavailableException("interrupted while reading the log of " + engineId, e);
        } catch (IOException e) {
            throw new RuntimeUnavailableException("reading the log of " + engineId + ": " + e.getMessage(), e);
        }
        decoder.flush();
        return lines;
    }

    /**
     * Keeps the log of a stopped engine container that is about to be removed, so that the container's next
     * engine container (same storage, new mounts) still shows it. A log that cannot be read is lost with a
     * warning rather than blocking the removal.
     */
    private void archiveLog(String containerId) {
        try {
            logArchive.append(containerId, engineLog(NAME_PREFIX + containerId, -1));
        } catch (NotFoundException gone) {
            // removed behind our back: its log went with it
        } catch (IOException | RuntimeException e) {
            LOG.warn("the log of {} could not be kept before its engine container is removed: {}", containerId, e.toString());
        }
    }

    @Override
    public ExecSession exec(String containerId, ExecSpec spec, ExecListener listener) {
        requireValidId(containerId);
        List<String> command = spec.argv();
        List<String> env = new ArrayList<>();
        spec.env().forEach((k, v) -> env.add(k + "=" + v));
        ExecCreateCmdResponse created = call("exec in " + containerId, () -> client.execCreateCmd(NAME_PREFIX + containerId)
                .withCmd(command.toArray(String[]::new))
                .withTty(spec.tty())
                .withAttachStdin(true)
                .withAttachStdout(true)
                .withAttachStderr(true)
                .withEnv(env)
                .exec());
        EngineSocket.Upgraded connection;
        try {
            connection = engineSocket.upgrade("/exec/" + created.getId() + "/start",
                    "{\"Detach\":false,\"Tty\":" + spec.tty() + "}");
        } catch (EngineSocket.StatusException e) {
            throw e.status == 404 ? new RuntimeNotFoundException("exec in " + containerId + ": " + e.getMessage(), e)
                    : e.status < 500 ? new RuntimeRejectedException("exec in " + containerId + ": " + e.getMessage(), e)
                    : new RuntimeUnavailableException("exec in " + containerId + ": " + e.getMessage(), e);
        } catch (IOException e) {
            engineLost(e);
            throw new RuntimeUnavailableException("exec in " + containerId + ": the Docker engine cannot be reached", e);
        }
        DockerExecSession session = new DockerExecSession(client, created.getId(), spec.tty(), connection, listener,
                reaper, sessions::remove);
        sessions.add(session);
        session.startReading(io, connection.leftover());
        session.resize(spec.cols(), spec.rows());
        session.recordProcess();
        return session;
    }

    @Override
    public Closeable events(RuntimeEventListener listener) {
        EventSubscription subscription = new EventSubscription(client, host, listener, scheduler, this::probeSoon,
                subscriptions::remove);
        subscriptions.add(subscription);
        subscription.open();
        return subscription;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Ports and files
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public HostEndpoint expose(String containerId, int port) {
        if (port < 1 || port > 65535) throw new RuntimeRejectedException("not a TCP port: " + port);
        requireContainer(containerId);
        PortRelay relay = relays.computeIfAbsent(containerId + ":" + port, key -> {
            try {
                return new PortRelay(containerId + ":" + port, () -> containerAddress(containerId, port), io);
            } catch (IOException e) {
                throw new RuntimeUnavailableException("cannot open a relay for " + key + ": " + e.getMessage(), e);
            }
        });
        relay.refreshTarget();
        return relay.endpoint();
    }

    @Override
    public void writeFile(String containerId, String path, byte[] content, int mode) {
        if (path == null || !path.startsWith("/") || !Path.of(path).normalize().toString().equals(path) || path.equals("/")) {
            throw new RuntimeRejectedException("not an absolute file path: " + path);
        }
        InspectContainerResponse container = requireContainer(containerId);
        // find the deepest existing ancestor: existing directories keep their owner and mode
        Deque<String> missing = new ArrayDeque<>();
        String base = parent(path);
        try {
            while (!base.equals("/") && !pathExists(container.getId(), base)) {
                missing.push(base);
                base = parent(base);
            }
        } catch (IOException e) {
            engineLost(e);
            throw new RuntimeUnavailableException("write " + path + " in " + containerId + ": " + e.getMessage(), e);
        }
        byte[] tar = tar(base, missing, path, content, mode);
        String target = base;
        run("write " + path + " in " + containerId, () -> client.copyArchiveToContainerCmd(container.getId())
                .withRemotePath(target)
                .withTarInputStream(new ByteArrayInputStream(tar))
                .exec());
    }

    // ------------------------------------------------------------------------------------------------------------
    // Storage
    // ------------------------------------------------------------------------------------------------------------

    /** Creates (or grows) and mounts the volume, seeds new mount path directories, returns the bind mounts. */
    private List<Mount> prepareStorage(ContainerSpec spec, String imageId) {
        if (spec.mountPaths().isEmpty()) return List.of();
        requireLocalStorage();
        String id = spec.containerId();
        try {
            volumes.ensure(id, spec.storageGb());
            seedMountPaths(spec, imageId);
        } catch (IOException e) {
            throw new RuntimeUnavailableException("cannot prepare the storage of " + id + ": " + e.getMessage(), e);
        }
        List<Mount> mounts = new ArrayList<>();
        for (String mountPath : spec.mountPaths()) {
            Path source = volumes.directoryFor(id, mountPath);
            requireRealDirectories(volumes.mountPoint(id), source);
            mounts.add(new Mount().withType(MountType.BIND).withSource(source.toString()).withTarget(mountPath));
        }
        return mounts;
    }

    /**
     * Gives each mount path that has no directory in the volume yet one, with the image's content at that path
     * when it has some (e.g. /root's dot files), copied from a created (never started) helper container.
     */
    private void seedMountPaths(ContainerSpec spec, String imageId) throws IOException {
        String id = spec.containerId();
        Path mountPoint = volumes.mountPoint(id);
        String[] helper = {null};
        try {
            for (String mountPath : spec.mountPaths()) {
                Path dir = volumes.directoryFor(id, mountPath);
                requireRealDirectories(mountPoint, dir.getParent());
                createDirectories(mountPoint, dir.getParent());
                if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) continue;
                Path content = imageContent(spec, imageId, mountPath, helper);
                if (content != null) {
                    try (InputStream in = Files.newInputStream(content)) {
                        // GNU tar as root keeps owners and modes; it refuses members with ".." or absolute names
                        HostCommand.run(List.of("tar", "-x", "-p", "--numeric-owner", "-f", "-", "-C",
                                dir.getParent().toString()), in, 600);
                    } finally {
                        if (!content.startsWith(seedCache)) Files.deleteIfExists(content);
                    }
                }
                if (content == null || Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    // nothing there in the image, or not a directory: start empty (a symlink is never followed)
                    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) Files.delete(dir);
                    Files.createDirectory(dir);
                    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(
                            mountPath.equals("/root") ? "rwx------" : "rwxr-xr-x"));
                }
            }
        } finally {
            if (helper[0] != null) removeHelper(helper[0]);
        }
    }

    /**
     * The image's content at {@code path} as a tar file, or null when the image has nothing there. Small archives
     * are kept per image id (content-addressed, so a re-tagged image gets its own), which spares later creates the
     * helper container; larger ones are a temporary file the caller deletes.
     */
    private Path imageContent(ContainerSpec spec, String imageId, String path, String[] helper) throws IOException {
        String key = sha256(imageId + "\0" + path);
        Path cached = seedCache.resolve(key + ".tar");
        Path absent = seedCache.resolve(key + ".absent");
        if (Files.isRegularFile(cached, LinkOption.NOFOLLOW_LINKS)) return cached;
        if (Files.exists(absent, LinkOption.NOFOLLOW_LINKS)) return null;
        Files.createDirectories(seedCache);
        if (helper[0] == null) helper[0] = createSeedHelper(spec);
        InputStream archive;
        try {
            archive = client.copyArchiveFromContainerCmd(helper[0], path).exec();
        } catch (NotFoundException nothingThere) {
            Files.write(absent, new byte[0]);
            return null;
        } catch (RuntimeException e) {
            throw failure("seed " + path, e);
        }
        Path temp = Files.createTempFile(seedCache, key, ".part");
        try (InputStream in = archive) {
            Files.copy(in, temp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        if (Files.size(temp) > MAX_CACHED_SEED_BYTES) return temp;
        // identical content if two creates raced: replacing is harmless
        Files.move(temp, cached, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return cached;
    }

    /**
     * Writes authorized_keys straight into the volume when /root is a mount path (the usual case): the container
     * was just created and has never run, so nothing inside it can race the write. The .ssh directory must be a
     * real directory (never a link), and the file is replaced by a rename, which never follows a link either.
     *
     * @return false when /root is not on the volume (the caller writes through the engine)
     */
    private boolean writeKeysOnVolume(ContainerSpec spec, byte[] content) {
        if (!localEngine || !spec.mountPaths().contains("/root")) return false;
        String id = spec.containerId();
        try {
            Path ssh = volumes.directoryFor(id, "/root").resolve(".ssh");
            requireRealDirectories(volumes.mountPoint(id), ssh);
            if (!Files.exists(ssh, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(ssh);
                Files.setPosixFilePermissions(ssh, PosixFilePermissions.fromString("rwx------"));
            }
            Path temp = Files.createTempFile(ssh, ".authorized_keys", ".tmp");
            Files.write(temp, content);
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
            Files.move(temp, ssh.resolve("authorized_keys"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (IOException e) {
            throw new RuntimeUnavailableException("cannot write the authorized keys of " + id + ": " + e.getMessage(), e);
        }
    }

    private static String sha256(String text) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private String createSeedHelper(ContainerSpec spec) {
        String name = NAME_PREFIX + "seed-" + spec.containerId();
        removeHelper(name); // a leftover of a crash
        return call("seed " + spec.containerId(), () -> client.createContainerCmd(spec.image())
                .withName(name)
                .withPlatform("linux/" + spec.arch().id())
                .withCmd("/never-started")
                .withLabels(Map.of("ecloud.seed", "true"))
                .exec().getId());
    }

    private void removeHelper(String helper) {
        try {
            client.removeContainerCmd(helper).withForce(true).exec();
        } catch (NotFoundException gone) {
            // fine
        } catch (RuntimeException e) {
            LOG.warn("cannot remove the helper container {}: {}", helper, e.toString());
        }
    }

    private void ensureStorageMounted(String containerId) {
        if (!localEngine) return;
        try {
            volumes.ensureMounted(containerId);
        } catch (IOException e) {
            throw new RuntimeUnavailableException("cannot mount the storage of " + containerId + ": " + e.getMessage(), e);
        }
    }

    /** The engine resolves symbolic links in bind sources on the host: every source must be a real directory. */
    private void verifyMountSources(InspectContainerResponse container) {
        List<Mount> mounts = container.getHostConfig() == null ? null : container.getHostConfig().getMounts();
        if (mounts == null) return;
        for (Mount mount : mounts) {
            if (mount.getSource() == null) continue;
            Path source = Path.of(mount.getSource());
            if (source.startsWith(volumes.root())) {
                requireRealDirectories(volumes.root(), source);
            }
        }
    }

    /** Every path component from below {@code top} down to {@code dir} that exists is a directory, not a link. */
    private static void requireRealDirectories(Path top, Path dir) {
        Path relative = top.relativize(dir);
        Path current = top;
        for (Path part : relative) {
            current = current.resolve(part);
            if (!Files.exists(current, LinkOption.NOFOLLOW_LINKS)) continue;
            if (Files.isSymbolicLink(current) || !Files.isDirectory(current, LinkOption.NOFOLLOW_LINKS)) {
                throw new RuntimeRejectedException("the volume holds something other than a directory at /"
                        + top.relativize(current) + "; mount paths must be directories");
            }
        }
    }

    /** mkdir -p below {@code top}, one real directory at a time (never through a link). */
    private static void createDirectories(Path top, Path dir) throws IOException {
        Path current = top;
        for (Path part : top.relativize(dir)) {
            current = current.resolve(part);
            if (!Files.exists(current, LinkOption.NOFOLLOW_LINKS)) Files.createDirectory(current);
        }
    }

    private void requireLocalStorage() {
        if (!localEngine) {
            throw new RuntimeUnsupportedException("storage needs the engine on this host (a unix:// docker.host)");
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------------------------------------------------

    private void validate(ContainerSpec spec) {
        requireValidId(spec.containerId());
        if (spec.image() == null || spec.image().isBlank()) throw new RuntimeRejectedException("no image");
        if (spec.ownerId() == null || spec.ownerId().isBlank()) throw new RuntimeRejectedException("no owner");
        if (spec.arch() == null) throw new RuntimeRejectedException("no arch");
        if (!allowedImagePrefixes.isEmpty() && allowedImagePrefixes.stream().noneMatch(spec.image()::startsWith)) {
            throw new RuntimeRejectedException("image " + spec.image() + " is not allowed on host " + host);
        }
        if (spec.cpuMillis() <= 0) throw new RuntimeRejectedException("cpuMillis must be positive");
        if (spec.memoryMb() < 6) throw new RuntimeRejectedException("memoryMb must be at least 6");
        if (spec.storageGb() <= 0) throw new RuntimeRejectedException("storageGb must be positive");
        Set<String> seen = new HashSet<>();
        for (String path : spec.mountPaths()) {
            if (path == null || !MOUNT_PATH.matcher(path).matches() || path.contains("/./") || path.endsWith("/.")
                    || path.contains("/../") || path.endsWith("/..")) {
                throw new RuntimeRejectedException("not an absolute, normalized mount path: " + path);
            }
            for (String system : SYSTEM_PATHS) {
                if (path.equals(system) || path.startsWith(system + "/")) {
                    throw new RuntimeRejectedException("mount path " + path + " would hide the kernel's " + system);
                }
            }
            if (!seen.add(path)) throw new RuntimeRejectedException("mount path listed twice: " + path);
        }
    }

    private static void requireValidId(String containerId) {
        if (containerId == null || !CONTAINER_ID.matcher(containerId).matches()) {
            throw new RuntimeRejectedException("not a container id: " + containerId);
        }
    }

    /** The platform's container of that id, if the engine has one. */
    private Optional<InspectContainerResponse> findContainer(String containerId) {
        requireValidId(containerId);
        try {
            InspectContainerResponse container = call("inspect " + containerId,
                    () -> client.inspectContainerCmd(NAME_PREFIX + containerId).exec());
            Map<String, String> labels = container.getConfig() == null ? null : container.getConfig().getLabels();
            if (labels == null || !"true".equals(labels.get(LABEL_MANAGED)) || !containerId.equals(labels.get(LABEL_ID))
                    || !ours(labels)) {
                return Optional.empty(); // same name, but not this platform's
            }
            return Optional.of(container);
        } catch (RuntimeNotFoundException e) {
            return Optional.empty();
        }
    }

    /** Whether labels are of a container of this platform (or of no platform in particular). */
    private boolean ours(Map<String, String> labels) {
        String owner = labels.get(LABEL_PLATFORM);
        return platformId == null || owner == null || platformId.equals(owner);
    }

    private InspectContainerResponse requireContainer(String containerId) {
        return findContainer(containerId)
                .orElseThrow(() -> new RuntimeNotFoundException("no container " + containerId + " on host " + host));
    }

    private void requireManaged(String containerId, InspectContainerResponse container) {
        Map<String, String> labels = container.getConfig() == null ? null : container.getConfig().getLabels();
        if (labels == null || !"true".equals(labels.get(LABEL_MANAGED)) || !ours(labels)) {
            throw new RuntimeNotFoundException("no container " + containerId + " on host " + host);
        }
    }

    private void awaitGone(String containerId) {
        for (int i = 0; i < 100 && findContainer(containerId).isPresent(); i++) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void removeQuietly(String containerId) {
        try {
            client.removeContainerCmd(NAME_PREFIX + containerId).withForce(true).exec();
        } catch (RuntimeException e) {
            LOG.warn("cannot remove the half-created container {}: {}", containerId, e.toString());
        }
    }

    /**
     * Whether the image brings a command worth running. A bare shell ({@code CMD ["/bin/bash"]}, as base images
     * declare for interactive use) counts as none: without a terminal it would exit at once.
     */
    static boolean runsOwnCommand(String[] cmd, String[] entrypoint) {
        if (entrypoint != null && entrypoint.length > 0) return true;
        if (cmd == null || cmd.length == 0) return false;
        if (cmd.length > 1) return true;
        String name = cmd[0].substring(cmd[0].lastIndexOf('/') + 1);
        return !INTERACTIVE_SHELLS.contains(name);
    }

    private RuntimeState state(String containerId, InspectContainerResponse container) {
        InspectContainerResponse.ContainerState state = container.getState();
        String status = state.getStatus() == null ? "" : state.getStatus();
        RuntimeState.Phase phase = switch (status) {
            case "created" -> RuntimeState.Phase.CREATED;
            case "running", "paused" -> RuntimeState.Phase.RUNNING;
            default -> RuntimeState.Phase.EXITED; // exited, restarting (waiting to restart), dead, removing
        };
        boolean oomKilled = Boolean.TRUE.equals(state.getOOMKilled());
        Integer exitCode = phase == RuntimeState.Phase.EXITED && state.getExitCodeLong() != null
                ? state.getExitCodeLong().intValue() : null;
        String reason = null;
        if (state.getError() != null && !state.getError().isBlank()) {
            reason = state.getError();
        } else if (oomKilled && phase == RuntimeState.Phase.EXITED) {
            reason = "out of memory";
        }
        return new RuntimeState(containerId, phase, exitCode, reason, oomKilled, instant(state.getStartedAt()),
                instant(state.getFinishedAt()));
    }

    /** The engine's RFC 3339 time; its zero time ("0001-01-01T00:00:00Z") means never. */
    private static Instant instant(String text) {
        if (text == null || text.isBlank() || text.startsWith("0001-")) return null;
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** Memory in use without the page cache the kernel can drop (as {@code docker stats} shows it). */
    private long memoryUsed(String dockerId) {
        DockerHttpClient.Request request = DockerHttpClient.Request.builder()
                .method(DockerHttpClient.Request.Method.GET)
                .path("/v" + apiVersion + "/containers/" + dockerId + "/stats?stream=false&one-shot=true")
                .build();
        try (DockerHttpClient.Response response = httpClient.execute(request)) {
            if (response.getStatusCode() != 200) return 0;
            JsonNode memory = json.readTree(response.getBody()).path("memory_stats");
            long usage = memory.path("usage").asLong(0);
            JsonNode stats = memory.path("stats");
            long inactive = stats.has("total_inactive_file") ? stats.path("total_inactive_file").asLong(0)
                    : stats.path("inactive_file").asLong(0);
            return inactive < usage ? usage - inactive : usage;
        } catch (IOException | RuntimeException e) {
            throw failure("memory of " + dockerId, e);
        }
    }

    /** The container's address on its bridge network (read from the engine), null while it has none. */
    private InetSocketAddress containerAddress(String containerId, int port) {
        try {
            InspectContainerResponse container = client.inspectContainerCmd(NAME_PREFIX + containerId).exec();
            if (container.getNetworkSettings() == null) return null;
            String ip = container.getNetworkSettings().getIpAddress();
            if (ip == null || ip.isEmpty()) {
                Map<String, ContainerNetwork> networks = container.getNetworkSettings().getNetworks();
                if (networks != null) {
                    ip = networks.values().stream().map(ContainerNetwork::getIpAddress)
                            .filter(a -> a != null && !a.isEmpty()).findFirst().orElse(null);
                }
            }
            return ip == null || ip.isEmpty() ? null : new InetSocketAddress(ip, port);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private void closeRelays(String containerId) {
        relays.entrySet().removeIf(entry -> {
            if (!entry.getKey().startsWith(containerId + ":")) return false;
            entry.getValue().close();
            return true;
        });
    }

    private boolean pathExists(String dockerId, String path) throws IOException {
        int status = engineSocket.head("/containers/" + dockerId + "/archive?path="
                + URLEncoder.encode(path, StandardCharsets.UTF_8));
        if (status == 200) return true;
        if (status == 404) return false;
        throw new EngineSocket.StatusException(status, "stat " + path);
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    /** A tar, relative to {@code base}, of the missing directories and the file; everything owned by root. */
    private static byte[] tar(String base, Deque<String> missingDirs, String path, byte[] content, int mode) {
        // missing parents get the file's mode plus search permission where it grants read (0600 -> 0700)
        int dirMode = (mode & 0777) | ((mode & 0444) >> 2);
        String prefix = base.equals("/") ? "/" : base + "/";
        Date now = new Date();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (String dir : missingDirs) {
                TarArchiveEntry entry = new TarArchiveEntry(dir.substring(prefix.length()) + "/");
                entry.setMode(040000 | dirMode);
                entry.setUserId(0);
                entry.setGroupId(0);
                entry.setModTime(now);
                tar.putArchiveEntry(entry);
                tar.closeArchiveEntry();
            }
            TarArchiveEntry file = new TarArchiveEntry(path.substring(prefix.length()));
            file.setMode(0100000 | (mode & 07777));
            file.setUserId(0);
            file.setGroupId(0);
            file.setSize(content.length);
            file.setModTime(now);
            tar.putArchiveEntry(file);
            tar.write(content);
            tar.closeArchiveEntry();
            tar.finish();
        } catch (IOException e) {
            throw new IllegalStateException("cannot build a tar in memory", e);
        }
        return bytes.toByteArray();
    }

    /** The image, pulled first when it is missing and its reference names a registry this engine may pull from. */
    private InspectImageResponse imageFor(ContainerSpec spec) {
        String ref = spec.image();
        try {
            return call("image " + ref, () -> client.inspectImageCmd(ref).exec());
        } catch (RuntimeNotFoundException missing) {
            int slash = ref.indexOf('/');
            if (slash < 0 || !pullRegistries.contains(ref.substring(0, slash))) throw missing;
            int colon = ref.lastIndexOf(':');
            if (colon < slash) throw missing;
            LOG.info("pulling {} for {} from its registry", ref, spec.arch().id());
            run("pull " + ref, () -> {
                try {
                    client.pullImageCmd(ref.substring(0, colon)).withTag(ref.substring(colon + 1))
                            .withPlatform("linux/" + spec.arch().id())
                            .exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<com.github.dockerjava.api.model.PullResponseItem>())
                            .awaitCompletion(5, java.util.concurrent.TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RuntimeUnavailableException("interrupted while pulling " + ref, e);
                }
            });
            return call("image " + ref, () -> client.inspectImageCmd(ref).exec());
        }
    }

    private <T> T call(String action, Supplier<T> body) {
        try {
            return body.get();
        } catch (RuntimeException e) {
            throw failure(action, e);
        }
    }

    private void run(String action, Runnable body) {
        call(action, () -> {
            body.run();
            return null;
        });
    }

    private RuntimeFailure failure(String action, Throwable error) {
        RuntimeFailure failure = EngineErrors.map(action, error);
        if (!(error instanceof RuntimeFailure) && EngineErrors.unreachable(error)) engineLost(error);
        return failure;
    }

    private static Path dataDirectory(String ecloudData) {
        return Path.of(ecloudData == null || ecloudData.isBlank() ? "data" : ecloudData);
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** One log stream: frames to lines, one onEnd whether it ended, was closed or failed. */
    private final class LogStream extends ResultCallback.Adapter<Frame> {
        private final LogListener listener;
        private final LogDecoder decoder;
        private final AtomicBoolean ended = new AtomicBoolean();
        private volatile boolean closing;

        LogStream(LogListener listener) {
            this.listener = listener;
            this.decoder = new LogDecoder(line -> {
                if (!closing) listener.onLine(line);
            });
        }

        @Override
        public void onStart(Closeable engineStream) {
            super.onStart(engineStream);
            if (closing) close(); // closed before the engine answered: stop reading at once
        }

        /** Lines kept from before, sent ahead of the engine's. */
        void replay(List<LogLine> lines) {
            for (LogLine line : lines) {
                if (closing) return;
                listener.onLine(line);
            }
        }

        @Override
        public void onNext(Frame frame) {
            if (closing) return;
            decoder.accept(frame.getStreamType() == StreamType.STDERR, frame.getPayload());
        }

        @Override
        public void onComplete() {
            if (!closing) decoder.flush();
            end(null);
        }

        @Override
        public void onError(Throwable error) {
            end(closing ? null : failure("logs", error));
        }

        @Override
        public void close() {
            closing = true;
            try {
                super.close();
            } catch (IOException e) {
                LOG.debug("closing a log stream: {}", e.toString());
            }
            end(null);
        }

        private void end(Throwable error) {
            if (!ended.compareAndSet(false, true)) return;
            logStreams.remove(this);
            try {
                listener.onEnd(error);
            } catch (RuntimeException e) {
                LOG.warn("log listener failed", e);
            }
        }
    }
}
