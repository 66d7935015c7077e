package com.ecloud.compute.runtime.lxd.internal;

import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

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
import com.ecloud.compute.api.runtime.LogListener;
import com.ecloud.compute.api.runtime.LogRequest;
import com.ecloud.compute.api.runtime.RuntimeEventListener;
import com.ecloud.compute.api.runtime.RuntimeFailure;
import com.ecloud.compute.api.runtime.RuntimeNotFoundException;
import com.ecloud.compute.api.runtime.RuntimeRejectedException;
import com.ecloud.compute.api.runtime.RuntimeState;
import com.ecloud.compute.api.runtime.RuntimeState.Phase;
import com.ecloud.compute.api.runtime.RuntimeUnavailableException;
import com.ecloud.compute.api.runtime.RuntimeUnsupportedException;
import com.ecloud.compute.api.runtime.Usage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The runtime SPI on one LXD daemon (its REST API over the unix socket), one component per factory configuration
 * of {@value #PID}.
 *
 * <p>What a container gets: an unprivileged LXD container named {@code <instance.prefix><id>} (LXD names must not
 * start with a digit; platform ids may), hostname {@code <id>}, config keys {@value #KEY_MANAGED}=true,
 * {@value #KEY_ID}, {@value #KEY_OWNER}, {@value #KEY_PLATFORM} and {@code user.<label>} for each label; CPU as
 * whole cores ({@code limits.cpu}) plus a CFS allowance for fractions, memory without swap, a process limit, a root
 * disk of {@code storageGb}, and one custom storage volume per mount path attached as a disk device (kept when the
 * instance is removed). LXD always runs the image's {@code /sbin/init} as PID 1 (lxd-host.sh gives the Debian
 * images an idle one); workloads run with exec.
 *
 * <p>Like the Docker runtime, the component registers its service itself, with the arches learnt from LXD
 * ({@link ServicePublisher}); deactivation never stops an instance.
 */
@Component(configurationPid = LxdRuntime.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {},
        immediate = true)
@Designate(ocd = LxdRuntime.Config.class, factory = true)
public final class LxdRuntime implements ContainerRuntime, AutoCloseable {

    /** Factory PID: one configuration per LXD host. */
    public static final String PID = "com.ecloud.compute.runtime.lxd";
    static final String TYPE_LXD = "lxd";
    static final String KEY_MANAGED = "user.ecloud.managed";
    static final String KEY_ID = "user.ecloud.container_id";
    static final String KEY_OWNER = "user.ecloud.owner";
    /** The platform that made the instance (see the Docker runtime's label of the same name). */
    static final String KEY_PLATFORM = "user.ecloud.platform";
    /** The mount path a custom volume holds. */
    static final String KEY_PATH = "user.ecloud.path";
    /** The authorized_keys lines, installed after every start (see {@link #start}). */
    static final String KEY_AUTHORIZED_KEYS = "user.ecloud.authorized_keys";
    /** When the platform last stopped the instance, and how (LXD keeps no exit status of an instance's init). */
    static final String KEY_STOPPED_AT = "user.ecloud.stopped_at";
    static final String KEY_EXIT_CODE = "user.ecloud.exit_code";
    /** Mount paths whose new, empty volumes still wait for the image's content (see {@link #seedVolumes}). */
    static final String KEY_SEED_PATHS = "user.ecloud.seed_paths";
    /** Copies each image path ($1, $3, ...) into its staging volume ($2, $4, ...) with its owner and mode. */
    static final String SEED_SCRIPT = "rc=0; while [ $# -ge 2 ]; do if [ -d \"$1\" ]; then "
            + "cp -a \"$1\"/. \"$2\"/ && chown \"$(stat -c %u:%g \"$1\")\" \"$2\" && chmod \"$(stat -c %a \"$1\")\" \"$2\" "
            + "|| rc=1; fi; shift 2; done; exit $rc";
    /** Seed templates are named prefix + this + a hash of image and path; they carry {@value #KEY_SEED_TEMPLATE}. */
    static final String SEED_TEMPLATE_INFIX = "seed-";
    static final String KEY_SEED_TEMPLATE = "user.ecloud.seed_template";
    /** A template's top directory as the image had it: "mode uid gid". */
    static final String KEY_SEED_ROOT = "user.ecloud.seed_root";
    /** Volumes made from templates whose top directory waits for the image's owner and mode: "path mode uid gid". */
    static final String KEY_SEED_ROOTS = "user.ecloud.seed_roots";
    /** Where a new volume is attached until it has been seeded. */
    static final String SEED_STAGING = "/.ecloud-seed/";
    /** Framework property with this platform's id (set by the launcher from {@code <data>/state/platform-id}). */
    static final String PLATFORM_ID_PROPERTY = "ecloud.platform.id";
    /** Framework property with the platform's data directory. */
    static final String DATA_PROPERTY = "ecloud.data";
    /** Disk devices of the instance that hold mount paths start with this. */
    static final String VOLUME_DEVICE_PREFIX = "vol-";
    /** Proxy devices of exposed ports are named this and the port. */
    static final String EXPOSE_DEVICE_PREFIX = "expose-";

    @ObjectClassDefinition(name = "ecloud LXD runtime", description = "One LXD daemon that runs the platform's containers")
    public @interface Config {
        @AttributeDefinition(description = "Host name of this runtime, unique among all runtimes")
        String host_name() default "lxd";

        @AttributeDefinition(description = "LXD's unix socket (Debian's package; the snap's is /var/snap/lxd/common/lxd/unix.socket)")
        String socket_path() default "/var/lib/lxd/unix.socket";

        @AttributeDefinition(description = "A remote LXD server, https://host:8443; empty: the local daemon on socket.path")
        String url() default "";

        @AttributeDefinition(description = "Remote LXD: the platform's client certificate (PEM), trusted by the server (lxc config trust add)")
        String tls_client_certificate() default "";

        @AttributeDefinition(description = "Remote LXD: the client certificate's private key (PEM, PKCS#8)")
        String tls_client_key() default "";

        @AttributeDefinition(description = "Remote LXD: the server's certificate (PEM, as GET /1.0 gives it), the only one trusted")
        String tls_server_certificate() default "";

        @AttributeDefinition(description = "Arches a remote LXD host runs under emulation (qemu-user binfmt there), e.g. arm64; the local daemon's are read from binfmt_misc")
        String[] emulated_arches() default {};

        @AttributeDefinition(description = "Storage pool of the root disks and of the volumes of mount paths")
        String storage_pool() default "ecloud";

        @AttributeDefinition(description = "Profiles every instance gets (the network device comes from one)")
        String[] profiles() default {"default"};

        @AttributeDefinition(description = "Prefix of instance and volume names; the platform's container id follows")
        String instance_prefix() default "ecloud-";

        @AttributeDefinition(description = "Prepended to an image reference to make the LXD image alias (lxd-host.sh imports the builtin images under their Docker names)")
        String images_alias_prefix() default "";

        @AttributeDefinition(description = "Image references must start with one of these; empty allows all")
        String[] images_allowed_prefixes() default {};

        @AttributeDefinition(description = "Most processes a container may have")
        int pids_limit() default 512;

        @AttributeDefinition(description = "Address of the LXD host on which exposed ports listen (loopback for the local daemon)")
        String expose_address() default "127.0.0.1";

        @AttributeDefinition(description = "Lowest host port for exposed ports")
        int expose_port_min() default 20000;

        @AttributeDefinition(description = "Highest host port for exposed ports")
        int expose_port_max() default 29999;

        @AttributeDefinition(description = "Directory of the console logs kept when an instance is removed (and deleted with its storage); empty: <data>/lxd/<host.name>/logs")
        String log_directory() default "";

        @AttributeDefinition(description = "Seconds a stop waits for the init to end before killing it, when the platform gives none (remove)")
        int stop_grace_seconds() default 10;
    }

    private static final Logger LOG = LoggerFactory.getLogger(LxdRuntime.class);
    private static final long MIB = 1024L * 1024;
    private static final Duration PROBE_INTERVAL = Duration.ofSeconds(15);
    private static final Duration RETRY_PROBE_AFTER = Duration.ofSeconds(2);
    /** How long an image behind an alias is taken as read: creates in a row skip two requests. */
    private static final Duration IMAGE_CACHE = Duration.ofSeconds(30);
    /** How often seed templates of images that are gone are looked for (with the probe). */
    private static final Duration PRUNE_INTERVAL = Duration.ofHours(1);
    private static final Pattern CONTAINER_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,40}");
    private static final Pattern MOUNT_PATH = Pattern.compile("(/[A-Za-z0-9._@+-]+)+");
    private static final List<String> SYSTEM_PATHS = List.of("/proc", "/sys", "/dev");
    /** LXD's "never" for last_used_at. */
    private static final Instant NEVER = Instant.EPOCH;

    private final String platformId;
    private final String host;
    private final String pool;
    private final List<String> profiles;
    private final String prefix;
    private final String aliasPrefix;
    private final List<String> allowedImagePrefixes;
    private final int pidsLimit;
    private final int stopGraceSeconds;
    private final String exposeAddress;
    private final boolean remote;
    private final Set<Arch> emulatedArches;
    private final int exposePortMin;
    private final int exposePortMax;
    private final ObjectMapper json = new ObjectMapper();
    private final LxdClient lxd;
    private final LxdLogs logs;
    private final ServicePublisher publisher;
    private final ScheduledExecutorService scheduler;
    private final Object probeLock = new Object();
    private volatile HostFacts facts = HostFacts.undetected("LXD was not asked yet");
    private volatile long lastProbeNanos = System.nanoTime() - RETRY_PROBE_AFTER.toNanos() - 1;
    private volatile long lastPruneNanos = System.nanoTime();
    private volatile boolean closed;
    /** Open exec sessions: closing the runtime ends them (their processes with them). */
    private final Set<LxdExecSession> execSessions = ConcurrentHashMap.newKeySet();
    private final Set<LxdEventSubscription> subscriptions = ConcurrentHashMap.newKeySet();
    private final Object exposeLock = new Object();
    private final Object oomWatchLock = new Object();
    /** Seed templates found so far, with their top directory's owner and mode. */
    private final Map<String, String> templateRoots = new ConcurrentHashMap<>();
    /** Images behind aliases, read at most every {@link #IMAGE_CACHE}. */
    private final Map<String, CachedImage> images = new ConcurrentHashMap<>();
    private java.util.concurrent.ScheduledFuture<?> oomWatchTask;

    /** What the last probe learnt about the host. */
    private record HostFacts(Health health, String reason, Set<Arch> arches, int cpus, long memoryMb) {
        static HostFacts undetected(String reason) {
            return new HostFacts(Health.UNDETECTED, reason, Set.of(), 0, 0);
        }

        HostFacts failed(String why) {
            return new HostFacts(health == Health.UNDETECTED ? Health.UNDETECTED : Health.UNHEALTHY, why, arches, cpus,
                    memoryMb);
        }
    }

    /** Activated by DS for each factory configuration. */
    @Activate
    public LxdRuntime(Config config, BundleContext context) {
        this(config, context.getProperty(PLATFORM_ID_PROPERTY), context.getProperty(DATA_PROPERTY),
                new ServicePublisher(context));
    }

    /** A runtime outside OSGi (tests, tools): nothing is registered, and no platform scoping. */
    public LxdRuntime(Config config) {
        this(config, null, null, null);
    }

    /** As {@link #LxdRuntime(Config)}, for the platform {@code platformId}. */
    LxdRuntime(Config config, String platformId) {
        this(config, platformId, null, null);
    }

    private LxdRuntime(Config config, String platformId, String dataDirectory, ServicePublisher publisher) {
        this.platformId = platformId == null || platformId.isBlank() ? null : platformId.trim();
        this.host = config.host_name();
        this.pool = config.storage_pool();
        this.profiles = Arrays.stream(config.profiles()).map(String::trim).filter(p -> !p.isEmpty()).toList();
        this.prefix = config.instance_prefix();
        if (!prefix.matches("[a-z][a-z0-9-]*")) {
            throw new IllegalArgumentException("instance.prefix must start with a letter and hold only [a-z0-9-]: "
                    + prefix);
        }
        this.aliasPrefix = config.images_alias_prefix() == null ? "" : config.images_alias_prefix();
        this.allowedImagePrefixes = Arrays.stream(config.images_allowed_prefixes()).map(String::trim)
                .filter(p -> !p.isEmpty()).toList();
        this.pidsLimit = config.pids_limit();
        this.stopGraceSeconds = Math.max(1, config.stop_grace_seconds());
        this.exposeAddress = config.expose_address();
        this.remote = config.url() != null && !config.url().isBlank();
        Set<Arch> emulated = new java.util.HashSet<>();
        for (String arch : config.emulated_arches()) {
            if (arch.isBlank()) continue;
            emulated.add(Arch.parse(arch.trim()).orElseThrow(() -> new IllegalArgumentException(
                    "emulated.arches: unknown arch " + arch)));
        }
        this.emulatedArches = Set.copyOf(emulated);
        this.exposePortMin = config.expose_port_min();
        this.exposePortMax = config.expose_port_max();
        if (exposePortMin < 1 || exposePortMax > 65535 || exposePortMin > exposePortMax) {
            throw new IllegalArgumentException("expose.port.min/max must be a range of TCP ports: " + exposePortMin
                    + "-" + exposePortMax);
        }
        this.lxd = client(config, json);
        this.logs = new LxdLogs(lxd, keptLogDirectory(config.log_directory(), dataDirectory, host));
        this.publisher = publisher;
        AtomicInteger threads = new AtomicInteger();
        this.scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "ecloud-lxd-" + host + "-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        if (publisher != null) publisher.publish(this, Set.of());
        scheduler.scheduleWithFixedDelay(this::probe, 0, PROBE_INTERVAL.toSeconds(), TimeUnit.SECONDS);
    }

    /** The local daemon's socket, or a remote server over HTTPS with a client certificate. */
    static LxdClient client(Config config, ObjectMapper json) {
        String url = config.url() == null ? "" : config.url().trim();
        if (url.isEmpty()) return new LxdClient(Path.of(config.socket_path()), json);
        for (String file : List.of(config.tls_client_certificate(), config.tls_client_key(), config.tls_server_certificate())) {
            if (file == null || file.isBlank()) {
                throw new IllegalArgumentException("a remote LXD (url " + url + ") needs tls.client.certificate, "
                        + "tls.client.key and tls.server.certificate");
            }
        }
        javax.net.ssl.SSLContext tls = LxdTls.context(Path.of(config.tls_client_certificate().trim()),
                Path.of(config.tls_client_key().trim()), Path.of(config.tls_server_certificate().trim()));
        return new LxdClient(java.net.URI.create(url), tls, json);
    }

    private static Path keptLogDirectory(String configured, String dataDirectory, String host) {
        if (configured != null && !configured.isBlank()) return Path.of(configured.trim());
        Path data = dataDirectory == null || dataDirectory.isBlank() ? Path.of(System.getProperty("java.io.tmpdir"),
                "ecloud-lxd") : Path.of(dataDirectory);
        return data.resolve("lxd").resolve(host).resolve("logs");
    }

    /** Bundle stopped or configuration deleted: release the client, leave every instance as it is. */
    @Deactivate
    @Override
    public void close() {
        closed = true;
        if (publisher != null) publisher.withdraw();
        for (LxdExecSession session : List.copyOf(execSessions)) session.close();
        for (LxdEventSubscription subscription : List.copyOf(subscriptions)) subscription.close();
        logs.close();
        scheduler.shutdownNow();
        lxd.close();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Host
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public String type() {
        return TYPE_LXD;
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public Fingerprint fingerprint() {
        HostFacts current = facts;
        if (current.health() != Health.HEALTHY && System.nanoTime() - lastProbeNanos > RETRY_PROBE_AFTER.toNanos()) {
            probe(); // not healthy: ask again now rather than report old news
            current = facts;
        }
        return new Fingerprint(TYPE_LXD, host, current.arches(), current.cpus(), current.memoryMb(), current.health(),
                current.health() == Health.HEALTHY ? null : current.reason());
    }

    /** Asks LXD for its arches and the host's resources; publishes the arches when they changed. */
    private void probe() {
        if (closed) return;
        synchronized (probeLock) {
            try {
                JsonNode server = lxd.get("/1.0");
                if (!"trusted".equals(server.path("auth").asText())) {
                    // GET /1.0 answers anyone; everything else needs a client certificate in LXD's trust store
                    throw new RuntimeRejectedException("LXD at " + lxd.where() + " does not trust this platform's "
                            + "client certificate (lxc config trust add)");
                }
                List<String> architectures = new ArrayList<>();
                server.path("environment").path("architectures").forEach(a -> architectures.add(a.asText()));
                // emulated arches: binfmt_misc tells them for the local daemon; a remote host's are configured
                Set<Arch> arches = new java.util.HashSet<>(ArchDetection.detect(architectures,
                        remote ? null : ArchDetection.BINFMT_MISC));
                arches.addAll(emulatedArches);
                arches = Set.copyOf(arches);
                JsonNode resources = lxd.get("/1.0/resources");
                int cpus = resources.path("cpu").path("total").asInt();
                long memoryMb = resources.path("memory").path("total").asLong() / MIB;
                if (facts.health() != Health.HEALTHY) LOG.info("LXD {} reached: arches {}", host, arches);
                facts = new HostFacts(Health.HEALTHY, null, arches, cpus, memoryMb);
                if (publisher != null && !closed) publisher.publish(this, arches);
                if (System.nanoTime() - lastPruneNanos > PRUNE_INTERVAL.toNanos()) {
                    lastPruneNanos = System.nanoTime();
                    try {
                        pruneSeedTemplates();
                    } catch (RuntimeFailure e) {
                        LOG.debug("LXD {}: seed templates not pruned: {}", host, e.getMessage()); // next hour
                    }
                }
            } catch (RuntimeFailure e) {
                if (facts.health() == Health.HEALTHY) LOG.warn("LXD {} fails: {}", host, e.getMessage());
                facts = facts.failed(e.getMessage());
            } finally {
                lastProbeNanos = System.nanoTime();
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
        String name = instanceName(id);
        if (findInstance(id) != null) return; // idempotent: an existing instance is left as it is
        String alias = aliasPrefix + spec.image();
        JsonNode image = image(alias);
        Arch imageArch = imageArch(image);
        if (imageArch != null && imageArch != spec.arch()) {
            throw new RuntimeRejectedException("image " + spec.image() + " is for " + imageArch.id() + ", not "
                    + spec.arch().id());
        }
        Set<Arch> arches = facts.arches();
        if (!arches.isEmpty() && !arches.contains(spec.arch())) {
            throw new RuntimeUnsupportedException("host " + host + " does not run " + spec.arch().id());
        }

        Map<String, Object> devices = new LinkedHashMap<>();
        // a local device named root overrides the profile's, which is how the root disk gets its size
        devices.put("root", Map.of("type", "disk", "path", "/", "pool", pool, "size", spec.storageGb() + "GiB"));
        List<String> seedPaths = new ArrayList<>();
        List<String> rootsToSet = new ArrayList<>();
        for (String path : new LinkedHashSet<>(spec.mountPaths())) {
            String volume = volumeName(id, path);
            VolumeState made = ensureVolume(id, path, volume, spec.storageGb(), image.path("fingerprint").asText(""));
            boolean fresh = made.fresh();
            if (made.rootToSet() != null) rootsToSet.add(path + " " + made.rootToSet());
            // a fresh volume is attached aside first, and moved over its path once it holds the image's content
            if (fresh) seedPaths.add(path);
            devices.put(volumeDevice(path), Map.of("type", "disk", "pool", pool, "source", volume, "path",
                    fresh ? SEED_STAGING + pathKey(path) : path));
        }

        Map<String, String> config = new LinkedHashMap<>();
        spec.labels().forEach((key, value) -> config.put("user." + key, value));
        config.putAll(limits(spec));
        config.put("limits.processes", Integer.toString(pidsLimit));
        config.put("raw.lxc", rawLxc(id));
        config.put(KEY_MANAGED, "true");
        config.put(KEY_ID, id);
        config.put(KEY_OWNER, spec.ownerId());
        if (platformId != null) config.put(KEY_PLATFORM, platformId);
        if (!seedPaths.isEmpty()) config.put(KEY_SEED_PATHS, String.join("\n", seedPaths));
        if (!rootsToSet.isEmpty()) config.put(KEY_SEED_ROOTS, String.join("\n", rootsToSet));
        if (!spec.authorizedKeys().isEmpty()) config.put(KEY_AUTHORIZED_KEYS, String.join("\n", spec.authorizedKeys()));

        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("type", "container");
        body.put("source", Map.of("type", "image", "alias", alias));
        body.put("profiles", profiles);
        body.put("config", config);
        body.put("devices", devices);
        try {
            lxd.call("POST", "/1.0/instances", body);
        } catch (RuntimeRejectedException e) {
            if (LxdClient.lxdError(e, "already exists") && findInstance(id) != null) return; // a concurrent create
            throw e;
        }
    }

    /**
     * CPU: whole cores as {@code limits.cpu} (rounded up; it also pins a cpuset of that size), and a fraction of a
     * core as a CFS allowance on top ({@code 50ms/100ms} = a quota of 50000 per 100000 period, as Docker's
     * {@code --cpus 0.5}).
     */
    static Map<String, String> limits(ContainerSpec spec) {
        Map<String, String> limits = new LinkedHashMap<>();
        int cores = Math.max(1, (spec.cpuMillis() + 999) / 1000);
        limits.put("limits.cpu", Integer.toString(cores));
        if (spec.cpuMillis() % 1000 != 0) {
            limits.put("limits.cpu.allowance", Math.max(1, spec.cpuMillis() / 10) + "ms/100ms");
        }
        limits.put("limits.memory", spec.memoryMb() + "MiB");
        limits.put("limits.memory.swap", "false"); // no swap beyond the limit
        return limits;
    }

    /**
     * raw.lxc: the hostname is the platform's id (LXD would use the instance name), no process gains privileges
     * through setuid binaries, and the capabilities a container has no business with are dropped (root inside an
     * unprivileged LXD container otherwise holds every capability of its user namespace), and its cgroups are
     * mounted read-only at /sys/fs/cgroup so that it can read its own limits (an init without systemd mounts none,
     * and LXD leaves that to the init).
     */
    private static String rawLxc(String id) {
        return "lxc.uts.name = " + id + "\n"
                + "lxc.no_new_privs = 1\n"
                + "lxc.cap.drop = sys_admin sys_module sys_rawio sys_time\n"
                + "lxc.mount.auto = cgroup:ro:force\n";
    }

    @Override
    public void start(String containerId) {
        String name = instanceName(containerId);
        JsonNode instance = instance(containerId);
        if (!"Stopped".equals(instance.path("status").asText())) {
            if ("Frozen".equals(instance.path("status").asText())) changeState(name, Map.of("action", "unfreeze"));
            seedVolumes(name, instance); // an earlier start that ended before seeding (nothing when none is pending)
            return;
        }
        logs.started(containerId);
        try {
            changeState(name, Map.of("action", "start", "timeout", 30));
        } catch (RuntimeRejectedException e) {
            if (!LxdClient.lxdError(e, "already running")) throw e;
        }
        seedVolumes(name, instance);
        setVolumeRoots(name, instance);
        installAuthorizedKeys(name, instance.path("config").path(KEY_AUTHORIZED_KEYS).asText(""));
    }

    /**
     * Gives fresh volumes the image's content at their paths (as Docker does for a new volume), on the first start:
     * the volume is attached at a staging path, the image's directory is copied into it with its owner and mode
     * ({@code cp -a} inside the running instance), then the device is moved over the path (LXD remounts a disk
     * device whose path changes, also in a running instance). LXD has no copy from an image path into a volume.
     */
    private void seedVolumes(String name, JsonNode instance) {
        String pending = instance.path("config").path(KEY_SEED_PATHS).asText("");
        if (pending.isEmpty()) return;
        Map<String, Object> moved = new LinkedHashMap<>();
        List<String> copy = new ArrayList<>(List.of("sh", "-c", SEED_SCRIPT, "seed"));
        List<String> stagings = new ArrayList<>();
        for (String path : pending.split("\n")) {
            String device = volumeDevice(path);
            JsonNode current = instance.path("devices").path(device);
            if (current.isMissingNode()) continue;
            String staging = SEED_STAGING + pathKey(path);
            copy.add(path);
            copy.add(staging);
            stagings.add(staging);
            Map<String, String> device2 = new LinkedHashMap<>();
            current.fields().forEachRemaining(field -> device2.put(field.getKey(), field.getValue().asText()));
            device2.put("path", path);
            moved.put(device, device2);
        }
        if (!stagings.isEmpty()) {
            int exitCode = lxd.runQuietly(name, copy);
            if (exitCode != 0) {
                // an image without sh/cp/stat: the volume starts empty rather than the container not at all
                LOG.warn("{}: seeding {} from the image failed (exit {})", name, pending.replace('\n', ' '), exitCode);
            } else {
                keepSeedTemplates(name, instance, moved);
            }
        }
        Map<String, Object> patch = new LinkedHashMap<>();
        patch.put("devices", moved);
        patch.put("config", Map.of(KEY_SEED_PATHS, ""));
        lxd.call("PATCH", "/1.0/instances/" + LxdClient.segment(name), patch);
        // the empty mount points LXD made for the staging paths
        try {
            for (String staging : stagings) lxd.deleteFile(name, staging);
            lxd.deleteFile(name, SEED_STAGING.substring(0, SEED_STAGING.length() - 1));
        } catch (RuntimeFailure e) {
            LOG.debug("{}: the seeding's empty directories stay: {}", name, e.getMessage());
        }
    }

    /**
     * Gives volumes made from a seed template the owner and mode of the image's directory, on the instance's first
     * start (LXD makes a new volume's top directory 0711 root, and its files API changes no existing directory).
     */
    private void setVolumeRoots(String name, JsonNode instance) {
        String pending = instance.path("config").path(KEY_SEED_ROOTS).asText("");
        Instant lastUsed = instant(instance.path("last_used_at").asText());
        // the instance's first start only (the volumes are new then); nothing to write back afterwards
        if (pending.isEmpty() || (lastUsed != null && lastUsed.isAfter(NEVER))) return;
        List<String> command = new ArrayList<>(List.of("sh", "-c",
                "rc=0; while [ $# -ge 4 ]; do chown \"$3:$4\" \"$1\" && chmod \"$2\" \"$1\" || rc=1; shift 4; done; exit $rc",
                "roots"));
        for (String line : pending.split("\n")) command.addAll(List.of(line.split(" ")));
        int exitCode = lxd.runQuietly(name, command);
        if (exitCode != 0) LOG.warn("{}: setting the owner and mode of {} failed (exit {})", name, pending, exitCode);
    }

    /**
     * Copies freshly seeded volumes, still untouched by the container, into the image's seed templates (once per
     * image and path; a concurrent seeding may have made one already). Later containers of that image get copies of
     * these, and skip the copy inside the instance.
     */
    private void keepSeedTemplates(String name, JsonNode instance, Map<String, Object> seededDevices) {
        String fingerprint = instance.path("config").path("volatile.base_image").asText("");
        if (fingerprint.isEmpty()) return;
        Map<String, String> rootOf = new LinkedHashMap<>();
        for (Object value : seededDevices.values()) {
            String path = String.valueOf(((Map<?, ?>) value).get("path"));
            try {
                rootOf.put(path, lxd.fileOwnerAndMode(name, path)); // still the image's: the volume is aside
            } catch (RuntimeNotFoundException missing) {
                // the image has no such path: LXD's 0711 root stays
            }
        }
        for (Object value : seededDevices.values()) {
            @SuppressWarnings("unchecked")
            Map<String, String> device = (Map<String, String>) value;
            String template = seedTemplateName(fingerprint, device.get("path"));
            if (findVolume(template) != null) continue;
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", template);
            body.put("type", "custom");
            body.put("content_type", "filesystem");
            body.put("source", Map.of("type", "copy", "pool", pool, "name", device.get("source")));
            try {
                // the copy keeps the source's config (its volatile idmap must stay); what names it as the
                // container's volume is removed after (a key set to "" goes)
                lxd.call("POST", "/1.0/storage-pools/" + LxdClient.segment(pool) + "/volumes/custom", body);
                Map<String, String> config = new LinkedHashMap<>();
                config.put(KEY_SEED_TEMPLATE, fingerprint + " " + device.get("path"));
                config.put(KEY_SEED_ROOT, rootOf.getOrDefault(device.get("path"), ""));
                config.put(KEY_ID, "");
                config.put(KEY_PATH, "");
                config.put(KEY_OWNER, "");
                lxd.call("PATCH", volumePath(template), Map.of("config", config));
            } catch (RuntimeFailure e) {
                if (!LxdClient.lxdError(e, "already exists")) {
                    LOG.info("no seed template of {} for {}: {}", device.get("path"), fingerprint, e.getMessage());
                }
            }
        }
    }

    /**
     * Writes /root/.ssh/authorized_keys (0600 in a 0700 directory). After the start, because LXD's files API on a
     * stopped instance writes into its root filesystem, under the custom volume that then hides /root when
     * /root is a mount path. Creating an existing directory succeeds, so the common case takes two requests.
     */
    private void installAuthorizedKeys(String name, String keys) {
        if (keys.isEmpty()) return;
        try {
            lxd.pushDirectory(name, "/root/.ssh", 0700);
        } catch (RuntimeFailure e) {
            lxd.pushDirectory(name, "/root", 0700); // an image without /root
            lxd.pushDirectory(name, "/root/.ssh", 0700);
        }
        lxd.pushFile(name, "/root/.ssh/authorized_keys", (keys + "\n").getBytes(StandardCharsets.UTF_8), 0600);
    }

    @Override
    public void stop(String containerId, Duration grace) {
        String name = instanceName(containerId);
        JsonNode instance = instance(containerId);
        if ("Stopped".equals(instance.path("status").asText())) return;
        try {
            logs.stopping(containerId, name); // the console's last lines, before the instance's console log goes
        } catch (RuntimeFailure e) {
            LOG.warn("the last console lines of {} could not be read before its stop: {}", containerId, e.getMessage());
        }
        long seconds = Math.max(1, (grace.toMillis() + 999) / 1000);
        int exitCode = 0; // LXD has no exit status of init: a clean shutdown on SIGPWR counts as 0
        try {
            // LXD sends SIGPWR to init and answers a failure when it has not ended within the timeout
            changeState(name, Map.of("action", "stop", "timeout", seconds));
        } catch (RuntimeRejectedException e) {
            if (LxdClient.lxdError(e, "already stopped") || LxdClient.lxdError(e, "not running")) return;
            LOG.info("{} did not stop within {} s ({}): killing it", name, seconds, e.getMessage());
            try {
                changeState(name, Map.of("action", "stop", "force", true));
            } catch (RuntimeFailure failed) {
                logs.started(containerId); // still running: its console is read on
                throw failed;
            }
            exitCode = 128 + 9;
        } catch (RuntimeFailure e) {
            logs.started(containerId);
            throw e;
        }
        lxd.call("PATCH", "/1.0/instances/" + LxdClient.segment(name),
                Map.of("config", Map.of(KEY_STOPPED_AT, Instant.now().toString(), KEY_EXIT_CODE,
                        Integer.toString(exitCode))));
    }

    @Override
    public void remove(String containerId) {
        JsonNode instance = findInstance(containerId);
        if (instance == null) return;
        String name = instanceName(containerId);
        if (!"Stopped".equals(instance.path("status").asText())) {
            stop(containerId, Duration.ofSeconds(stopGraceSeconds));
        }
        try {
            lxd.call("DELETE", "/1.0/instances/" + LxdClient.segment(name), null);
        } catch (RuntimeNotFoundException gone) {
            // removed meanwhile
        }
    }

    @Override
    public void removeStorage(String containerId) {
        remove(containerId);
        logs.forget(containerId);
        for (JsonNode volume : volumes()) {
            if (!containerId.equals(volume.path("config").path(KEY_ID).asText())) continue;
            try {
                lxd.call("DELETE", volumePath(volume.path("name").asText()), null);
            } catch (RuntimeNotFoundException gone) {
                // removed meanwhile
            }
        }
    }

    @Override
    public List<String> storageIds() {
        Set<String> ids = new LinkedHashSet<>();
        for (JsonNode volume : volumes()) ids.add(volume.path("config").path(KEY_ID).asText());
        return List.copyOf(ids);
    }

    @Override
    public RuntimeState inspect(String containerId) {
        return state(instance(containerId));
    }

    @Override
    public List<RuntimeState> list() {
        List<RuntimeState> states = new ArrayList<>();
        for (JsonNode instance : lxd.get("/1.0/instances?recursion=1")) {
            if (ours(instance)) states.add(state(instance));
        }
        return states;
    }

    @Override
    public Usage usage(String containerId) {
        String name = instanceName(containerId);
        instance(containerId); // not found, or not ours
        JsonNode state = lxd.get("/1.0/instances/" + LxdClient.segment(name) + "/state");
        long memory = "Running".equals(state.path("status").asText()) ? state.path("memory").path("usage").asLong() : 0;
        long rootfs = 0;
        long storage = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = state.path("disk").fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> disk = it.next();
            long used = disk.getValue().path("usage").asLong();
            if ("root".equals(disk.getKey())) rootfs = used;
            else if (disk.getKey().startsWith(VOLUME_DEVICE_PREFIX)) storage += used;
        }
        return new Usage(memory, storage, rootfs);
    }

    @Override
    public void writeFile(String containerId, String path, byte[] content, int mode) {
        String name = instanceName(containerId);
        instance(containerId);
        if (!MOUNT_PATH.matcher(path).matches() || path.contains("/../") || path.endsWith("/..")) {
            throw new RuntimeRejectedException("not an absolute file path: " + path);
        }
        // parents that exist keep their mode; missing ones are made 0755, as mkdir -p would
        int slash = 0;
        while ((slash = path.indexOf('/', slash + 1)) > 0) {
            String parent = path.substring(0, slash);
            if (!lxd.fileExists(name, parent)) lxd.pushDirectory(name, parent, 0755);
        }
        lxd.pushFile(name, path, content, mode & 07777);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Not yet: exec (websockets), logs, events, expose (proxy devices)
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public Closeable logs(String containerId, LogRequest request, LogListener listener) {
        String name = instanceName(containerId);
        JsonNode instance = findInstance(containerId);
        if (instance == null && !logs.hasLog(containerId)) {
            throw new RuntimeNotFoundException("no container " + containerId + " on " + host);
        }
        boolean running = instance != null && "Running".equals(instance.path("status").asText());
        return logs.stream(containerId, instance == null ? null : name, running, request, listener, () -> {
            JsonNode now = findInstance(containerId);
            return now != null && "Running".equals(now.path("status").asText());
        });
    }

    @Override
    public ExecSession exec(String containerId, ExecSpec spec, ExecListener listener) {
        String name = instanceName(containerId);
        JsonNode instance = instance(containerId);
        if (!"Running".equals(instance.path("status").asText())) {
            throw new RuntimeRejectedException("container " + containerId + " is not running");
        }
        List<String> command = spec.argv();
        String marker = UUID.randomUUID().toString();
        Map<String, String> environment = new LinkedHashMap<>(spec.env());
        environment.put(LxdExecSession.SESSION_VARIABLE, marker);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("command", command);
        body.put("environment", environment);
        body.put("wait-for-websocket", true);
        body.put("interactive", spec.tty());
        body.put("record-output", false);
        if (spec.tty()) {
            body.put("width", Math.max(1, spec.cols()));
            body.put("height", Math.max(1, spec.rows()));
        }
        JsonNode envelope = lxd.startOperation("/1.0/instances/" + LxdClient.segment(name) + "/exec", body);
        LxdExecSession session = new LxdExecSession(lxd, name, envelope, marker, spec.tty(), listener,
                execSessions::remove);
        execSessions.add(session);
        if (session.isFinished()) execSessions.remove(session); // it ended before it was listed
        return session;
    }

    /**
     * LXD's lifecycle events, and for the local daemon OOM kills read from the instances' memory cgroups once a
     * second (LXD 5.0 reports none; {@link OomWatch}).
     */
    @Override
    public Closeable events(RuntimeEventListener listener) {
        LxdEventSubscription subscription = new LxdEventSubscription(lxd, host, listener,
                name -> name.startsWith(prefix) ? name.substring(prefix.length()) : null, subscriptions::remove);
        subscriptions.add(subscription);
        if (closed) subscription.close();
        if (!remote) {
            synchronized (oomWatchLock) {
                if (oomWatchTask == null) {
                    OomWatch watch = new OomWatch(List.of(Path.of("/sys/fs/cgroup/memory"), Path.of("/sys/fs/cgroup")),
                            prefix, (instance, kills) -> {
                                for (LxdEventSubscription each : List.copyOf(subscriptions)) each.oomKilled(instance);
                            });
                    watch.check(); // the counters as they are now: only later kills are told
                    oomWatchTask = scheduler.scheduleWithFixedDelay(watch::check, 1, 1, TimeUnit.SECONDS);
                }
            }
        }
        return subscription;
    }

    /**
     * A proxy device per exposed port ({@code expose-<port>}): LXD's forkproxy listens on {@code expose.address}
     * of the LXD host while the instance runs and connects to the port on the instance's own loopback. The host
     * port is the first free one of {@code expose.ports} (free among the platform's devices; a port taken by
     * something else on the host makes LXD refuse the device, and the next one is tried).
     */
    @Override
    public HostEndpoint expose(String containerId, int port) {
        if (port < 1 || port > 65535) throw new RuntimeRejectedException("not a TCP port: " + port);
        String name = instanceName(containerId);
        String device = EXPOSE_DEVICE_PREFIX + port;
        synchronized (exposeLock) {
            JsonNode existing = instance(containerId).path("devices").path(device);
            Integer listening = listenPort(existing);
            if (listening != null) return new HostEndpoint(exposeAddress, listening);
            Set<Integer> taken = new java.util.HashSet<>();
            for (JsonNode instance : lxd.get("/1.0/instances?recursion=1")) {
                instance.path("devices").forEach(d -> {
                    Integer used = listenPort(d);
                    if (used != null) taken.add(used);
                });
            }
            RuntimeFailure last = null;
            int tries = 0;
            for (int candidate = exposePortMin; candidate <= exposePortMax && tries < 20; candidate++) {
                if (taken.contains(candidate)) continue;
                tries++;
                Map<String, String> proxy = new LinkedHashMap<>();
                proxy.put("type", "proxy");
                proxy.put("listen", "tcp:" + exposeAddress + ":" + candidate);
                proxy.put("connect", "tcp:127.0.0.1:" + port);
                try {
                    lxd.call("PATCH", "/1.0/instances/" + LxdClient.segment(name), Map.of("devices", Map.of(device, proxy)));
                    return new HostEndpoint(exposeAddress, candidate);
                } catch (RuntimeRejectedException e) {
                    last = e; // most likely the host port is in use by something else
                    LOG.debug("{}: port {} refused for {}: {}", name, candidate, device, e.getMessage());
                }
            }
            throw new RuntimeUnavailableException("no free host port in " + exposePortMin + "-" + exposePortMax
                    + " to expose port " + port + " of " + containerId, last);
        }
    }

    /** The host port a proxy device of ours listens on, or null. */
    private Integer listenPort(JsonNode device) {
        if (!"proxy".equals(device.path("type").asText())) return null;
        String listen = device.path("listen").asText("");
        int colon = listen.lastIndexOf(':');
        if (!listen.startsWith("tcp:") || colon < 0) return null;
        try {
            return Integer.valueOf(listen.substring(colon + 1));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------------------------------------------------

    String instanceName(String containerId) {
        if (containerId == null || !CONTAINER_ID.matcher(containerId).matches()) {
            throw new RuntimeNotFoundException("no container " + containerId);
        }
        return prefix + containerId;
    }

    /** The platform's instance of that id; {@link RuntimeNotFoundException} when LXD has none (or not ours). */
    private JsonNode instance(String containerId) {
        JsonNode instance = findInstance(containerId);
        if (instance == null) throw new RuntimeNotFoundException("no container " + containerId + " on " + host);
        return instance;
    }

    private JsonNode findInstance(String containerId) {
        try {
            JsonNode instance = lxd.get("/1.0/instances/" + LxdClient.segment(instanceName(containerId)));
            return ours(instance) ? instance : null;
        } catch (RuntimeNotFoundException e) {
            return null;
        }
    }

    /** Made by this platform: our prefix and marker, and (when scoped) our platform id or none at all. */
    private boolean ours(JsonNode instance) {
        JsonNode config = instance.path("config");
        if (!instance.path("name").asText().startsWith(prefix)) return false;
        if (!"true".equals(config.path(KEY_MANAGED).asText())) return false;
        String platform = config.path(KEY_PLATFORM).asText("");
        return platformId == null || platform.isEmpty() || platformId.equals(platform);
    }

    private RuntimeState state(JsonNode instance) {
        JsonNode config = instance.path("config");
        String id = config.path(KEY_ID).asText(instance.path("name").asText().substring(prefix.length()));
        Instant lastUsed = instant(instance.path("last_used_at").asText());
        Instant startedAt = lastUsed == null || !lastUsed.isAfter(NEVER) ? null : lastUsed;
        String status = instance.path("status").asText();
        if (!"Stopped".equals(status)) {
            return new RuntimeState(id, Phase.RUNNING, null, null, false, startedAt, null);
        }
        if (startedAt == null) return new RuntimeState(id, Phase.CREATED, null, null, false, null, null);
        Instant stoppedAt = instant(config.path(KEY_STOPPED_AT).asText());
        if (stoppedAt != null && !stoppedAt.isBefore(startedAt)) {
            Integer exitCode = config.path(KEY_EXIT_CODE).asText("").matches("-?\\d+")
                    ? Integer.valueOf(config.path(KEY_EXIT_CODE).asText()) : 0;
            return new RuntimeState(id, Phase.EXITED, exitCode, null, false, startedAt, stoppedAt);
        }
        // its init ended by itself (or was killed): LXD records neither when nor with which status
        return new RuntimeState(id, Phase.EXITED, null, "the instance's init ended; LXD reports no exit status",
                false, startedAt, null);
    }

    private static Instant instant(String text) {
        if (text == null || text.isEmpty()) return null;
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private void changeState(String name, Map<String, Object> action) {
        lxd.call("PUT", "/1.0/instances/" + LxdClient.segment(name) + "/state", action);
    }

    private void validate(ContainerSpec spec) {
        if (!CONTAINER_ID.matcher(spec.containerId()).matches()) {
            throw new RuntimeRejectedException("not a container id: " + spec.containerId());
        }
        if (!allowedImagePrefixes.isEmpty() && allowedImagePrefixes.stream().noneMatch(spec.image()::startsWith)) {
            throw new RuntimeRejectedException("image " + spec.image() + " is not allowed on " + host);
        }
        if (spec.cpuMillis() <= 0 || spec.memoryMb() <= 0 || spec.storageGb() <= 0) {
            throw new RuntimeRejectedException("cpu, memory and storage must be positive");
        }
        for (String path : spec.mountPaths()) {
            if (!MOUNT_PATH.matcher(path).matches() || path.contains("/..") || path.contains("/./")
                    || SYSTEM_PATHS.stream().anyMatch(p -> path.equals(p) || path.startsWith(p + "/"))) {
                throw new RuntimeRejectedException("not a usable mount path: " + path);
            }
        }
    }

    /** The image behind an alias ({@code /} and {@code :} are legal in aliases; percent-encoded in the path). */
    private JsonNode image(String alias) {
        CachedImage cached = images.get(alias);
        if (cached != null && System.nanoTime() - cached.readAtNanos() < IMAGE_CACHE.toNanos()) return cached.image();
        JsonNode image = readImage(alias);
        images.put(alias, new CachedImage(image, System.nanoTime()));
        return image;
    }

    /** An image as read at a time; re-read after {@link #IMAGE_CACHE} (an image re-imported under its alias). */
    private record CachedImage(JsonNode image, long readAtNanos) {
    }

    private JsonNode readImage(String alias) {
        JsonNode target;
        try {
            target = lxd.get("/1.0/images/aliases/" + LxdClient.segment(alias));
        } catch (RuntimeNotFoundException e) {
            throw new RuntimeNotFoundException("no image " + alias + " on " + host, e);
        }
        return lxd.get("/1.0/images/" + LxdClient.segment(target.path("target").asText()));
    }

    /**
     * The platform arch of an image: {@code ecloud.architecture} when lxd-host.sh imported it (arm64 images are
     * imported as the host's arch so that LXD accepts them), LXD's own {@code architecture} otherwise.
     */
    private static Arch imageArch(JsonNode image) {
        String declared = image.path("properties").path("ecloud.architecture").asText("");
        if (declared.isEmpty()) declared = image.path("architecture").asText("");
        return Arch.parse(declared).orElse(null);
    }

    /** Custom volumes of the platform (every platform sharing the pool sees only its own, see {@link #ours}). */
    /**
     * Deletes the seed templates of images LXD no longer has (an image re-imported under its alias has a new
     * fingerprint, and new templates); a template is never attached to an instance, so nothing else uses it.
     * Returns how many went.
     */
    int pruneSeedTemplates() {
        Set<String> fingerprints = new java.util.HashSet<>();
        for (JsonNode image : lxd.get("/1.0/images?recursion=1")) fingerprints.add(image.path("fingerprint").asText());
        int pruned = 0;
        for (JsonNode volume : lxd.get("/1.0/storage-pools/" + LxdClient.segment(pool) + "/volumes/custom?recursion=1")) {
            String name = volume.path("name").asText();
            String seedOf = volume.path("config").path(KEY_SEED_TEMPLATE).asText("");
            if (!name.startsWith(prefix + SEED_TEMPLATE_INFIX) || seedOf.isEmpty()) continue;
            String fingerprint = seedOf.split(" ", 2)[0];
            if (fingerprints.contains(fingerprint)) continue;
            try {
                lxd.call("DELETE", volumePath(name), null);
                templateRoots.remove(name);
                pruned++;
                LOG.info("deleted the seed template {} of an image LXD no longer has ({})", name, fingerprint);
            } catch (RuntimeFailure e) {
                LOG.debug("seed template {} not deleted: {}", name, e.getMessage());
            }
        }
        return pruned;
    }

    private List<JsonNode> volumes() {
        List<JsonNode> volumes = new ArrayList<>();
        for (JsonNode volume : lxd.get("/1.0/storage-pools/" + LxdClient.segment(pool) + "/volumes/custom?recursion=1")) {
            JsonNode config = volume.path("config");
            if (!volume.path("name").asText().startsWith(prefix)) continue;
            if (volume.path("name").asText().startsWith(prefix + SEED_TEMPLATE_INFIX)) continue; // an image's, not a container's
            if (!"true".equals(config.path(KEY_MANAGED).asText()) || config.path(KEY_ID).asText().isEmpty()) continue;
            String platform = config.path(KEY_PLATFORM).asText("");
            if (platformId != null && !platform.isEmpty() && !platformId.equals(platform)) continue;
            volumes.add(volume);
        }
        return volumes;
    }

    private String volumeName(String containerId, String path) {
        return prefix + containerId + "-" + pathKey(path);
    }

    /**
     * Creates the custom volume of one mount path unless it exists (it outlives the instance); whether it is new and
     * still needs the image's content. A new volume is a copy of the image's seed template for that path when there
     * is one (see {@link #seedVolumes}): a btrfs snapshot, already holding the image's content with its owner and
     * mode, so that the start has nothing to copy.
     */
    /** What {@link #ensureVolume} made: whether the volume still needs seeding, or the root it needs set. */
    private record VolumeState(boolean fresh, String rootToSet) {
    }

    private VolumeState ensureVolume(String containerId, String path, String volume, int storageGb, String fingerprint) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("size", storageGb + "GiB");
        config.put(KEY_MANAGED, "true");
        config.put(KEY_ID, containerId);
        config.put(KEY_PATH, path);
        if (platformId != null) config.put(KEY_PLATFORM, platformId);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", volume);
        body.put("type", "custom");
        body.put("content_type", "filesystem");
        body.put("config", config);
        String template = fingerprint.isEmpty() ? null : seedTemplateName(fingerprint, path);
        String templateRoot = template == null ? null : templateRoot(template);
        boolean fromTemplate = templateRoot != null;
        if (fromTemplate) {
            // a copy keeps the template's config, whose volatile idmap says how its files are shifted on disk (a
            // config given here would replace it, and LXD would shift the files a second time): set ours after
            body.remove("config");
            body.put("source", Map.of("type", "copy", "pool", pool, "name", template));
        }
        try {
            // created straight away (a volume usually does not exist yet); LXD says so when it does
            lxd.call("POST", "/1.0/storage-pools/" + LxdClient.segment(pool) + "/volumes/custom", body);
        } catch (RuntimeRejectedException e) {
            if (!LxdClient.lxdError(e, "already exists")) throw e;
            resizeExisting(volume, storageGb); // kept from an earlier instance, or made by a concurrent create
            return new VolumeState(false, null);
        } catch (RuntimeNotFoundException templateGone) {
            if (!fromTemplate) throw templateGone;
            templateRoots.remove(template); // deleted behind our back: a fresh volume, seeded again
            return ensureVolume(containerId, path, volume, storageGb, "");
        }
        if (!fromTemplate) return new VolumeState(true, null);
        Map<String, String> ours = new LinkedHashMap<>(config);
        ours.put(KEY_SEED_TEMPLATE, ""); // LXD removes a key set to ""
        ours.put(KEY_SEED_ROOT, "");
        lxd.call("PATCH", volumePath(volume), Map.of("config", ours));
        // LXD makes a new volume's top directory 0711 root: the image's own owner and mode are set at the start
        return new VolumeState(false, templateRoot.matches("[0-7]{3,4} \\d+ \\d+") ? templateRoot : null);
    }

    /** A volume kept from an earlier instance follows a new storage size (btrfs quotas grow and shrink in place). */
    private void resizeExisting(String volume, int storageGb) {
        JsonNode existing = lxd.get(volumePath(volume));
        String size = storageGb + "GiB";
        if (!size.equals(existing.path("config").path("size").asText())) {
            lxd.call("PATCH", volumePath(volume), Map.of("config", Map.of("size", size)));
        }
    }

    /**
     * The owner and mode a seed template's top directory had in the image ("" when unknown), or null when there is
     * no such template. Templates are never changed once made, so what was found is remembered.
     */
    private String templateRoot(String template) {
        String known = templateRoots.get(template);
        if (known != null) return known;
        JsonNode volume = findVolume(template);
        if (volume == null) return null;
        String root = volume.path("config").path(KEY_SEED_ROOT).asText("");
        templateRoots.put(template, root);
        return root;
    }

    private JsonNode findVolume(String volume) {
        try {
            return lxd.get(volumePath(volume));
        } catch (RuntimeNotFoundException e) {
            return null;
        }
    }

    /** The seed template of an image's path: named by both, so that a new image gets new templates. */
    String seedTemplateName(String fingerprint, String path) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((fingerprint + "\n" + path).getBytes(StandardCharsets.UTF_8));
            return prefix + SEED_TEMPLATE_INFIX + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private String volumePath(String volume) {
        return "/1.0/storage-pools/" + LxdClient.segment(pool) + "/volumes/custom/" + LxdClient.segment(volume);
    }

    private static String volumeDevice(String path) {
        return VOLUME_DEVICE_PREFIX + pathKey(path);
    }

    /** A name part for a mount path: readable, and unique by a hash ("/var/data" and "/var-data" differ). */
    static String pathKey(String path) {
        String slug = path.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
        if (slug.length() > 24) slug = slug.substring(0, 24);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(path.getBytes(StandardCharsets.UTF_8));
            return (slug.isEmpty() ? "" : slug + "-") + HexFormat.of().formatHex(digest, 0, 3);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
