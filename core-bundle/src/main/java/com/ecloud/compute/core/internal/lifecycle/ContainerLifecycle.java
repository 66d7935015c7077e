package com.ecloud.compute.core.internal.lifecycle;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.event.ContainerEvent;
import com.ecloud.compute.api.event.ContainerEventListener;
import com.ecloud.compute.api.ingress.IngressRouter;
import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.model.Container;
import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.model.IngressRule;
import com.ecloud.compute.api.model.SshKey;
import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.api.runtime.ContainerSpec;
import com.ecloud.compute.api.runtime.Fingerprint;
import com.ecloud.compute.api.runtime.RuntimeEvent;
import com.ecloud.compute.api.runtime.RuntimeFailure;
import com.ecloud.compute.api.runtime.RuntimeNotFoundException;
import com.ecloud.compute.api.runtime.RuntimeState;
import com.ecloud.compute.api.runtime.RuntimeUnavailableException;
import com.ecloud.compute.api.runtime.Usage;
import com.ecloud.compute.api.store.ContainerStore;
import com.ecloud.compute.api.store.IngressStore;
import com.ecloud.compute.api.store.KeyStore;
import com.ecloud.compute.core.internal.config.PlatformConfig;
import com.ecloud.compute.core.internal.http.ApiException;
import com.ecloud.compute.core.internal.images.ImageCatalog;

/**
 * The container lifecycle: the state machine pending -> initializing -> running, stopped, failed, driven by the
 * API's requests and by runtime events, and a reconciler that makes the store and every runtime agree.
 *
 * <p>Every change to one container's engine objects and status happens under that container's lock, so requests,
 * provisioning, events and reconciliation of one container never interleave. Slow work runs on its own
 * executors; runtime event callbacks only enqueue.
 */
@Component(service = ContainerLifecycle.class, immediate = true, configurationPid = PlatformConfig.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = PlatformConfig.class)
public class ContainerLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(ContainerLifecycle.class);
    private static final Set<ContainerStatus> HOLDS_MEMORY =
            EnumSet.of(ContainerStatus.PENDING, ContainerStatus.INITIALIZING, ContainerStatus.RUNNING);
    private static final Duration RETRY_PLACEMENT = Duration.ofSeconds(3);
    static final String AUTHORIZED_KEYS = "/root/.ssh/authorized_keys";

    private final ContainerStore containers;
    private final KeyStore keys;
    private final IngressStore ingress;
    private final ImageCatalog images;
    private final PlatformConfig config;
    private final ContainerScheduler scheduler;
    private final ContainerIds ids = new ContainerIds();

    private final Map<String, ContainerRuntime> runtimes = new ConcurrentHashMap<>();
    private final Map<String, Closeable> eventSubscriptions = new ConcurrentHashMap<>();
    private final List<ContainerEventListener> listeners = new CopyOnWriteArrayList<>();
    private volatile IngressRouter router;
    private volatile DrainedHosts drained;

    // striped: bounded memory, and one container always maps to the same lock
    private final ReentrantLock[] locks = new ReentrantLock[64];
    /** How often each lock was taken: tells a converge whether anything ran while it asked the engine. */
    private final AtomicLong[] lockEpochs = new AtomicLong[64];
    /** Converges waiting for a contended container's lock to be free (see {@link #converge(String, String, int)}). */
    private final java.util.concurrent.atomic.AtomicInteger pendingConverges = new java.util.concurrent.atomic.AtomicInteger();
    private static final int CONVERGE_ATTEMPTS = 40;
    private static final long CONVERGE_RETRY_MILLIS = 50;
    private final Map<String, Instant> deadlines = new ConcurrentHashMap<>();
    private final Map<String, Usage> usage = new ConcurrentHashMap<>();
    private final Map<String, Instant> orphansSeen = new ConcurrentHashMap<>();
    private final Map<String, Instant> oomKilled = new ConcurrentHashMap<>();

    private final ThreadPoolExecutor work;
    private final ScheduledExecutorService timers;
    private final ExecutorService eventDelivery;
    private final ThreadPoolExecutor runtimeEvents;
    private volatile boolean active = true;

    @Activate
    public ContainerLifecycle(@Reference ContainerStore containers, @Reference KeyStore keys,
            @Reference IngressStore ingress, @Reference ImageCatalog images, PlatformConfig config) {
        this.containers = containers;
        this.keys = keys;
        this.ingress = ingress;
        this.images = images;
        this.config = config;
        this.scheduler = new ContainerScheduler(config.cpu_overcommit(), java.util.Arrays.asList(config.runtime_preference()));
        for (int i = 0; i < locks.length; i++) {
            locks[i] = new ReentrantLock();
            lockEpochs[i] = new AtomicLong();
        }
        this.work = new ThreadPoolExecutor(4, 4, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), threads("ecloud-lifecycle"));
        this.timers = Executors.newScheduledThreadPool(1, threads("ecloud-lifecycle-timer"));
        // one thread keeps every container's events in order for the listeners
        this.eventDelivery = Executors.newSingleThreadExecutor(threads("ecloud-container-events"));
        // runtime events are applied in the engine's order, apart from the work pool so they never queue behind it
        this.runtimeEvents = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                threads("ecloud-runtime-events"));
        long reconcileEvery = Math.max(5, config.reconcile_interval_seconds());
        timers.scheduleWithFixedDelay(() -> work.execute(this::reconcileAll), 1, reconcileEvery, TimeUnit.SECONDS);
        long usageEvery = Math.max(1, config.usage_interval_seconds());
        timers.scheduleWithFixedDelay(() -> work.execute(this::refreshUsage), usageEvery, usageEvery, TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() {
        // never stops containers: only our own threads and subscriptions end
        active = false;
        timers.shutdownNow();
        work.shutdownNow();
        runtimeEvents.shutdownNow();
        eventDelivery.shutdown();
        eventSubscriptions.values().forEach(ContainerLifecycle::closeQuietly);
        eventSubscriptions.clear();
    }

    // ---- dynamic references -------------------------------------------------------------------------------

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindRuntime(ContainerRuntime runtime) {
        String host = runtime.host();
        runtimes.put(host, runtime);
        try {
            Closeable old = eventSubscriptions.put(host, runtime.events(e -> onRuntimeEvent(host, e)));
            closeQuietly(old);
        } catch (RuntimeException e) {
            LOG.warn("cannot subscribe to events of runtime host {}: {}", host, e.getMessage());
        }
        // catch up with whatever happened while this runtime was away
        if (active) work.execute(() -> reconcileHost(host));
    }

    void unbindRuntime(ContainerRuntime runtime) {
        String host = runtime.host();
        runtimes.remove(host, runtime);
        closeQuietly(eventSubscriptions.remove(host));
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindListener(ContainerEventListener listener) {
        listeners.add(listener);
    }

    void unbindListener(ContainerEventListener listener) {
        listeners.remove(listener);
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void bindRouter(IngressRouter r) {
        this.router = r;
    }

    void unbindRouter(IngressRouter r) {
        if (this.router == r) this.router = null;
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void bindDrainedHosts(DrainedHosts d) {
        this.drained = d;
    }

    void unbindDrainedHosts(DrainedHosts d) {
        if (this.drained == d) this.drained = null;
    }

    /** Whether no new container may be placed on {@code host}. */
    public boolean isDrained(String host) {
        DrainedHosts d = drained;
        return d != null && d.contains(host);
    }

    /**
     * Drains {@code host} (no new containers; those on it stay and keep running) or makes it schedulable again.
     * Returns true when that changed anything.
     */
    public boolean setDrained(String host, boolean drain) {
        DrainedHosts d = drained;
        if (d == null) throw ApiException.unavailable("host draining is not available");
        try {
            boolean changed = d.set(host, drain);
            if (changed && !drain) reconcileAllSoon(); // waiting containers may fit now
            return changed;
        } catch (java.io.IOException e) {
            throw ApiException.unavailable("cannot record the drain of " + host + ": " + e.getMessage());
        }
    }

    /** Runs the reconciler now (in the background): what an operator asks for after fixing a host. */
    public void reconcileAllSoon() {
        if (active) work.execute(this::reconcileAll);
    }

    /** The hosts present now that may take new containers (not drained). */
    private List<Fingerprint> schedulableHosts() {
        return hosts().stream().filter(f -> !isDrained(f.host())).toList();
    }

    /** Every stored container, of every user (operators' view). */
    public List<Container> listAll() {
        return containers.listAll();
    }

    /** One container of any user; empty when unknown. */
    public Optional<Container> find(String id) {
        return ContainerIds.isValid(id) ? containers.find(id) : Optional.empty();
    }

    // ---- queries ------------------------------------------------------------------------------------------

    public PlatformConfig config() {
        return config;
    }

    public ImageCatalog images() {
        return images;
    }

    public List<Container> list(String ownerId) {
        return containers.listByOwner(ownerId);
    }

    public Container get(String ownerId, String id) {
        if (!ContainerIds.isValid(id)) throw notFound(id);
        return containers.findOwned(ownerId, id).orElseThrow(() -> notFound(id));
    }

    /**
     * The runtime that holds {@code c}, for streaming its logs or running a process in it.
     *
     * @throws ApiException 503 when the container is not placed yet or its host's runtime is away
     */
    public ContainerRuntime runtimeOf(Container c) {
        ContainerRuntime runtime = requireRuntimePresent(c);
        if (runtime == null) throw ApiException.unavailable("container " + c.id() + " is not placed on a host yet");
        return runtime;
    }

    /** Last measured resource use; empty until measured, or when not running. */
    public Optional<Usage> usage(String id) {
        return Optional.ofNullable(usage.get(id));
    }

    /** Fingerprints of every runtime host present now. */
    public List<Fingerprint> hosts() {
        List<Fingerprint> all = new ArrayList<>();
        for (ContainerRuntime r : runtimes.values()) {
            try {
                all.add(r.fingerprint());
            } catch (RuntimeException e) {
                LOG.warn("fingerprint of {} failed: {}", r.host(), e.getMessage());
            }
        }
        return all;
    }

    // ---- commands -----------------------------------------------------------------------------------------

    /** Stores a new container (quota checked in the same transaction) and provisions it asynchronously. */
    public Container create(String ownerId, ContainerRequest request) {
        // refuse early what can never run: an image without this arch, keys that are not the owner's
        images.resolve(request.image(), request.instanceType().arch());
        List<SshKey> owned = keys.findAll(ownerId, request.sshKeyIds());
        if (owned.size() != request.sshKeyIds().size()) {
            List<Long> missing = new ArrayList<>(request.sshKeyIds());
            owned.forEach(k -> missing.remove(k.id()));
            throw ApiException.unprocessable("no such SSH key: " + missing.get(0));
        }
        // no host for it now (its runtime plugin stopped or being swapped, its engine away, every host drained):
        // say so at once rather than queue it until its deadline; a host that is merely full queues it
        Arch arch = request.instanceType().arch();
        if (schedulableHosts().stream().noneMatch(f -> f.healthy() && f.arches().contains(arch))) {
            throw ApiException.unavailable("no healthy " + arch.id() + " host takes new containers now; try again later");
        }
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        for (int attempt = 0; ; attempt++) {
            Container c = new Container(ids.next(), ownerId, request.name(), ContainerStatus.PENDING, null,
                    request.instanceType(), request.memoryMb(), request.storageGb(), request.sshEnabled(), false,
                    request.image(), request.mountPaths(), request.sshKeyIds(), null, now);
            try {
                Container stored = containers.create(c, config.max_containers_per_user());
                deadlines.put(stored.id(), now.plusSeconds(config.provisioning_deadline_seconds()));
                publish(stored);
                scheduleProvisioning(stored.id(), Duration.ZERO);
                return stored;
            } catch (com.ecloud.compute.api.store.ConflictException e) {
                // a colliding random id is astronomically rare; anything else is the client's conflict
                if (attempt >= 2 || containers.find(c.id()).isEmpty()) throw e;
            }
        }
    }

    /** Starts a stopped or failed container; a running or starting one is returned as it is. */
    public Container start(String ownerId, String id) {
        return locked(id, () -> {
            Container c = get(ownerId, id);
            if (c.status() != ContainerStatus.STOPPED && c.status() != ContainerStatus.FAILED) return c;
            requireRuntimePresent(c);
            Container pending = transition(id, x -> x.withStatus(ContainerStatus.PENDING, null)).orElseThrow(() -> notFound(id));
            deadlines.put(id, Instant.now().plusSeconds(config.provisioning_deadline_seconds()));
            scheduleProvisioning(id, Duration.ZERO);
            return pending;
        });
    }

    /** Stops a container and returns it stopped: its main process gets the grace period, then is killed. */
    public Container stop(String ownerId, String id) {
        return locked(id, () -> {
            Container c = get(ownerId, id);
            if (c.status() == ContainerStatus.STOPPED) return c;
            ContainerRuntime runtime = requireRuntimePresent(c);
            if (runtime != null) {
                try {
                    runtime.stop(id, Duration.ofSeconds(config.stop_grace_seconds()));
                } catch (RuntimeNotFoundException e) {
                    // nothing to stop: provisioning had not created it yet
                }
            }
            deadlines.remove(id);
            usage.remove(id);
            if (c.status() == ContainerStatus.FAILED) return c;
            return transition(id, x -> x.withStatus(ContainerStatus.STOPPED, null)).orElseThrow(() -> notFound(id));
        });
    }

    /** Deletes a container in any state: its engine container and storage first, then its record. */
    public void delete(String ownerId, String id) {
        locked(id, () -> {
            Container c = get(ownerId, id);
            ContainerRuntime runtime = requireRuntimePresent(c);
            if (runtime != null) runtime.removeStorage(id); // the engine container first, then its storage and log
            containers.delete(id);
            deadlines.remove(id);
            usage.remove(id);
            oomKilled.remove(id);
            refreshRouter(id);
            return null;
        });
    }

    /** Replaces the mount paths; re-creates the engine container (keeping its storage), restarting it if it ran. */
    public boolean updateMounts(String ownerId, String id, List<String> mountPaths) {
        return locked(id, () -> {
            Container c = get(ownerId, id);
            if (c.mountPaths().equals(mountPaths)) return false;
            ContainerRuntime runtime = requireRuntimePresent(c);
            Container updated = containers.update(id, x -> x.withMountPaths(mountPaths)).orElseThrow(() -> notFound(id));
            if (runtime == null) return false;
            RuntimeState state;
            try {
                state = runtime.inspect(id);
            } catch (RuntimeNotFoundException e) {
                return false; // not created yet: provisioning will use the new paths
            }
            runtime.remove(id);
            runtime.create(spec(updated, runtime));
            if (state.running()) {
                runtime.start(id);
                return true;
            }
            return false;
        });
    }

    public Container setSshEnabled(String ownerId, String id, boolean enabled) {
        get(ownerId, id);
        return containers.update(id, c -> c.withSshEnabled(enabled)).orElseThrow(() -> notFound(id));
    }

    public List<IngressRule> ingressRules(String ownerId, String id) {
        get(ownerId, id);
        return ingress.list(id);
    }

    public IngressRule addIngress(String ownerId, String id, int port, int targetPort) {
        get(ownerId, id);
        IngressRule rule = ingress.add(id, port, targetPort);
        if (port == 443) containers.update(id, c -> c.withHttpsEnabled(true));
        refreshRouter(id);
        return rule;
    }

    public void deleteIngress(String ownerId, String id, int port) {
        get(ownerId, id);
        if (!ingress.delete(id, port)) throw ApiException.notFound("no ingress rule on port " + port);
        if (port == 443) containers.update(id, c -> c.withHttpsEnabled(false));
        refreshRouter(id);
    }

    /** A key was deleted: rewrite authorized_keys of the containers that used it (revoking it there). */
    public void keyRevoked(List<String> containerIds) {
        for (String id : containerIds) {
            work.execute(() -> locked(id, () -> {
                containers.find(id).ifPresent(this::writeAuthorizedKeys);
                return null;
            }));
        }
    }

    // ---- provisioning -------------------------------------------------------------------------------------

    private void scheduleProvisioning(String id, Duration delay) {
        if (!active) return;
        if (delay.isZero()) {
            work.execute(() -> provision(id));
        } else {
            timers.schedule(() -> work.execute(() -> provision(id)), delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Takes a pending container to running: place it, create it (or reuse its engine container), start it. */
    void provision(String id) {
        locked(id, () -> {
            Optional<Container> found = containers.find(id);
            if (found.isEmpty() || found.get().status() != ContainerStatus.PENDING) return null;
            Container c = found.get();
            Instant deadline = deadlines.computeIfAbsent(id, k -> Instant.now().plusSeconds(config.provisioning_deadline_seconds()));
            if (Instant.now().isAfter(deadline)) {
                fail(id, "did not start within " + config.provisioning_deadline_seconds() + " s: "
                        + (c.runtimeHost() == null ? "no host could take it" : "host " + c.runtimeHost() + " did not start it"));
                return null;
            }
            ContainerRuntime runtime = c.runtimeHost() == null ? place(c) : runtimes.get(c.runtimeHost());
            if (runtime == null) {
                scheduleProvisioning(id, RETRY_PLACEMENT); // waits for a host until the deadline
                return null;
            }
            String host = runtime.host();
            // never placed before: nothing exists on the engine yet (placement is stored before create)
            boolean firstPlacement = c.runtimeHost() == null;
            c = transition(id, x -> x.withRuntimeHost(host).withStatus(ContainerStatus.INITIALIZING, null)).orElse(null);
            if (c == null) return null;
            try {
                if (firstPlacement) {
                    runtime.create(spec(c, runtime));
                } else {
                    try {
                        runtime.inspect(id);
                        writeAuthorizedKeys(c); // an existing engine container: refresh its keys
                    } catch (RuntimeNotFoundException missing) {
                        runtime.create(spec(c, runtime));
                    }
                }
                runtime.start(id);
                if (runtime.inspect(id).running()) {
                    transition(id, x -> x.status() == ContainerStatus.INITIALIZING ? x.withStatus(ContainerStatus.RUNNING, null) : x);
                    deadlines.remove(id);
                }
            } catch (RuntimeUnavailableException e) {
                LOG.info("container {}: host {} unavailable, will retry: {}", id, host, e.getMessage());
                transition(id, x -> x.status() == ContainerStatus.INITIALIZING ? x.withStatus(ContainerStatus.PENDING, null) : x);
                scheduleProvisioning(id, RETRY_PLACEMENT);
            } catch (RuntimeFailure | ApiException e) {
                fail(id, e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("container {}: provisioning failed", id, e);
                fail(id, "the platform could not start it (internal error)");
            }
            return null;
        });
    }

    private ContainerRuntime place(Container c) {
        List<Fingerprint> hosts = schedulableHosts();
        Map<String, Long> memory = new HashMap<>();
        Map<String, Long> cpu = new HashMap<>();
        for (Container other : containers.listAll()) {
            if (other.runtimeHost() != null && HOLDS_MEMORY.contains(other.status()) && !other.id().equals(c.id())) {
                memory.merge(other.runtimeHost(), (long) other.memoryMb(), Long::sum);
                cpu.merge(other.runtimeHost(), (long) other.instanceType().cpuMillis(), Long::sum);
            }
        }
        ContainerScheduler.Reserved reserved = new ContainerScheduler.Reserved(memory, cpu);
        ContainerScheduler.Demand demand = new ContainerScheduler.Demand(c.instanceType().arch(), c.memoryMb(),
                c.instanceType().cpuMillis());
        Optional<String> host = scheduler.place(hosts, reserved, demand);
        if (host.isEmpty()) {
            LOG.info("container {} waits for a host: {}", c.id(), scheduler.whyNot(hosts, reserved, demand));
            return null;
        }
        return runtimes.get(host.get());
    }

    private ContainerSpec spec(Container c, ContainerRuntime runtime) {
        String engineImage = images.resolve(c.image(), c.instanceType().arch());
        Map<String, String> labels = Map.of("ecloud.container.name", c.name());
        return new ContainerSpec(c.id(), c.ownerId(), engineImage, c.instanceType().arch(), c.instanceType().cpuMillis(),
                c.memoryMb(), c.storageGb(), c.mountPaths(), authorizedKeyLines(c.id()), labels);
    }

    private List<String> authorizedKeyLines(String id) {
        return keys.attachedTo(id).stream().map(SshKey::publicKey).toList();
    }

    private void writeAuthorizedKeys(Container c) {
        ContainerRuntime runtime = c.runtimeHost() == null ? null : runtimes.get(c.runtimeHost());
        if (runtime == null) return; // written again when it next starts
        StringBuilder file = new StringBuilder();
        for (String line : authorizedKeyLines(c.id())) file.append(line).append('\n');
        try {
            runtime.writeFile(c.id(), AUTHORIZED_KEYS, file.toString().getBytes(StandardCharsets.UTF_8), 0600);
        } catch (RuntimeNotFoundException e) {
            // not created yet: create() writes them
        }
    }

    // ---- events and reconciliation ------------------------------------------------------------------------

    private void onRuntimeEvent(String host, RuntimeEvent event) {
        if (!active) return;
        if (event.kind() == RuntimeEvent.Kind.RESYNC) {
            work.execute(() -> reconcileHost(host));
        } else if (event.containerId() != null) {
            runtimeEvents.execute(() -> {
                applyEvent(host, event);
                // then the engine's full account, which also catches what an event cannot say (a lost container)
                work.execute(() -> converge(event.containerId(), host));
            });
        }
    }

    /**
     * Applies what a start or a death says at once: asking the engine first costs tens of milliseconds after a
     * death (it answers once it has handled the exit), and users watch these changes live. Skipped while an API
     * call or provisioning holds the container, which then sets the status itself.
     */
    void applyEvent(String host, RuntimeEvent event) {
        String id = event.containerId();
        if (event.kind() == RuntimeEvent.Kind.OOM) {
            oomKilled.put(id, Instant.now()); // the engine reports the kill just before the death
            return;
        }
        if (event.kind() != RuntimeEvent.Kind.STARTED && event.kind() != RuntimeEvent.Kind.DIED) return;
        ReentrantLock lock = lockOf(id);
        if (!lock.tryLock()) return;
        lockEpochs[stripe(id)].incrementAndGet();
        try {
            Optional<Container> found = containers.find(id);
            if (found.isEmpty() || !host.equals(found.get().runtimeHost())) return;
            ContainerStatus status = found.get().status();
            if (event.kind() == RuntimeEvent.Kind.DIED && status == ContainerStatus.RUNNING) {
                usage.remove(id);
                Instant oom = oomKilled.remove(id);
                boolean outOfMemory = oom != null && oom.isAfter(Instant.now().minusSeconds(10));
                transition(id, x -> x.withStatus(ContainerStatus.STOPPED,
                        exitReason(x, outOfMemory, event.exitCode(), "main process exited")));
            } else if (event.kind() == RuntimeEvent.Kind.STARTED
                    && (status == ContainerStatus.STOPPED || status == ContainerStatus.FAILED)) {
                transition(id, x -> x.withStatus(ContainerStatus.RUNNING, null));
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Makes one container's status agree with what its runtime reports now. The engine is asked without holding
     * the container's lock (it may answer slowly, and events must not wait for it); when anything else held the
     * lock then or meanwhile, that answer may describe the middle of their work, and it is asked under the lock.
     */
    void converge(String id, String host) {
        converge(id, host, 0);
    }

    /**
     * One attempt; while the lock is contended the engine is asked again later, outside the lock: asking it under
     * the lock would hold back every event of the container for as long as the engine takes to answer. Only
     * after {@link #CONVERGE_ATTEMPTS} contended attempts is it asked under the lock.
     */
    private void converge(String id, String host, int attempt) {
        ContainerRuntime runtime = runtimes.get(host);
        if (runtime == null) return;
        long epoch = lockEpochs[stripe(id)].get();
        // held now (e.g. a PUT mounts re-creating the container): the engine's answer would come from its middle
        boolean busy = lockOf(id).isLocked();
        boolean lastAttempt = attempt >= CONVERGE_ATTEMPTS;
        if (busy && !lastAttempt) {
            convergeLater(id, host, attempt);
            return;
        }
        Optional<RuntimeState> first = busy ? Optional.empty() : inspectForConverge(runtime, id, host);
        if (first == null) return;
        boolean stale = Boolean.TRUE.equals(locked(id, () -> {
            Optional<Container> found = containers.find(id);
            if (found.isEmpty() || !host.equals(found.get().runtimeHost())) return false;
            Optional<RuntimeState> state = first;
            if (busy || lockEpochs[stripe(id)].get() != epoch + 1) {
                if (!lastAttempt) return true; // something held the container meanwhile: ask again, outside
                state = inspectForConverge(runtime, id, host);
                if (state == null) return false;
            }
            converge(found.get(), state.orElse(null));
            return false;
        }));
        if (stale) convergeLater(id, host, attempt);
    }

    private void convergeLater(String id, String host, int attempt) {
        if (!active) return;
        pendingConverges.incrementAndGet();
        timers.schedule(() -> work.execute(() -> {
            try {
                converge(id, host, attempt + 1);
            } finally {
                pendingConverges.decrementAndGet();
            }
        }), CONVERGE_RETRY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The engine's state of a container; empty when it has none; null when it cannot tell now. */
    private static Optional<RuntimeState> inspectForConverge(ContainerRuntime runtime, String id, String host) {
        try {
            return Optional.of(runtime.inspect(id));
        } catch (RuntimeNotFoundException e) {
            return Optional.empty();
        } catch (RuntimeFailure e) {
            LOG.debug("cannot inspect {} on {}: {}", id, host, e.getMessage());
            return null;
        }
    }

    private void converge(Container c, RuntimeState state) {
        String id = c.id();
        switch (c.status()) {
            case PENDING:
                break; // provisioning owns it
            case INITIALIZING:
                if (state != null && state.running()) {
                    transition(id, x -> x.withStatus(ContainerStatus.RUNNING, null));
                    deadlines.remove(id);
                }
                break;
            case RUNNING:
                if (state == null) {
                    fail(id, "its host " + c.runtimeHost() + " lost the container");
                } else if (!state.running()) {
                    usage.remove(id);
                    transition(id, x -> x.withStatus(ContainerStatus.STOPPED, exitReason(x, state)));
                }
                break;
            case STOPPED:
            case FAILED:
                if (state != null && state.running()) {
                    transition(id, x -> x.withStatus(ContainerStatus.RUNNING, null));
                } else if (state == null && c.status() == ContainerStatus.STOPPED) {
                    fail(id, "its host " + c.runtimeHost() + " lost the container");
                } else if (state != null && state.oomKilled() && c.status() == ContainerStatus.STOPPED
                        && c.statusReason() != null && c.statusReason().startsWith("main process exited")) {
                    // the death was applied from its event, whose OOM report the engine did not send first
                    transition(id, x -> x.withStatus(ContainerStatus.STOPPED, exitReason(x, state)));
                }
                break;
            default:
                break;
        }
    }

    private static String exitReason(Container c, RuntimeState state) {
        return exitReason(c, state.oomKilled(), state.exitCode(), state.reason());
    }

    private static String exitReason(Container c, boolean oomKilled, Integer exitCode, String otherwise) {
        if (oomKilled) return "killed: out of memory (memory_mb " + c.memoryMb() + ")";
        if (exitCode != null) return "main process exited with code " + exitCode;
        return otherwise;
    }

    /** Reconciles every runtime present and resumes provisioning; runs at start-up and periodically. */
    void reconcileAll() {
        for (String host : List.copyOf(runtimes.keySet())) reconcileHost(host);
        for (Container c : containers.listAll()) {
            if (c.status() == ContainerStatus.PENDING && c.runtimeHost() == null) scheduleProvisioning(c.id(), Duration.ZERO);
        }
    }

    void reconcileHost(String host) {
        ContainerRuntime runtime = runtimes.get(host);
        if (runtime == null || !active) return;
        List<RuntimeState> engine;
        try {
            engine = runtime.list();
        } catch (RuntimeFailure e) {
            LOG.info("reconciliation of host {} postponed: {}", host, e.getMessage());
            return;
        }
        Map<String, RuntimeState> byId = new HashMap<>();
        engine.forEach(s -> byId.put(s.containerId(), s));
        Instant now = Instant.now();
        for (Container c : containers.listAll()) {
            if (!host.equals(c.runtimeHost())) continue;
            byId.remove(c.id());
            locked(c.id(), () -> {
                Optional<Container> current = containers.find(c.id());
                if (current.isEmpty() || !host.equals(current.get().runtimeHost())) return null;
                Container x = current.get();
                RuntimeState state = runtimeState(runtime, x.id());
                if (x.status() == ContainerStatus.INITIALIZING && (state == null || !state.running())) {
                    // interrupted provisioning (e.g. the platform was killed): resume it
                    transition(x.id(), y -> y.withStatus(ContainerStatus.PENDING, null));
                    scheduleProvisioning(x.id(), Duration.ZERO);
                } else if (x.status() == ContainerStatus.PENDING) {
                    scheduleProvisioning(x.id(), Duration.ZERO);
                } else {
                    converge(x, state);
                }
                return null;
            });
        }
        // engine containers (or storage left by an interrupted create) the store does not know: removed once they
        // have been seen for the grace window
        Set<String> unknown = new java.util.HashSet<>(byId.keySet());
        try {
            for (String id : runtime.storageIds()) {
                if (containers.find(id).isEmpty()) unknown.add(id);
            }
        } catch (RuntimeFailure e) {
            LOG.info("storage of host {} not listed: {}", host, e.getMessage());
        }
        for (String orphan : unknown) {
            if (containers.find(orphan).isPresent()) continue; // created since the listing
            Instant first = orphansSeen.computeIfAbsent(host + "/" + orphan, k -> now);
            if (Duration.between(first, now).getSeconds() >= config.orphan_grace_seconds()) {
                LOG.info("removing container {} from host {}: the store does not know it", orphan, host);
                locked(orphan, () -> {
                    if (containers.find(orphan).isEmpty()) {
                        runtime.removeStorage(orphan); // the engine container first, then its storage
                    }
                    return null;
                });
                orphansSeen.remove(host + "/" + orphan);
            }
        }
        orphansSeen.keySet().removeIf(k -> k.startsWith(host + "/") && !unknown.contains(k.substring(host.length() + 1)));
    }

    private static RuntimeState runtimeState(ContainerRuntime runtime, String id) {
        try {
            return runtime.inspect(id);
        } catch (RuntimeNotFoundException e) {
            return null;
        }
    }

    /** Reads memory and disk use of running containers; stops those over their storage cap. */
    void refreshUsage() {
        for (Container c : containers.listAll()) {
            if (c.status() != ContainerStatus.RUNNING || c.runtimeHost() == null) {
                usage.remove(c.id());
                continue;
            }
            ContainerRuntime runtime = runtimes.get(c.runtimeHost());
            if (runtime == null) continue;
            try {
                Usage u = runtime.usage(c.id());
                usage.put(c.id(), u);
                long cap = (long) c.storageGb() << 30;
                if (u.diskUsedBytes() > cap) enforceStorageCap(c, u, runtime);
            } catch (RuntimeFailure e) {
                LOG.debug("usage of {} unavailable: {}", c.id(), e.getMessage());
            }
        }
    }

    private void enforceStorageCap(Container c, Usage u, ContainerRuntime runtime) {
        String reason = String.format("stopped: it used %.2f GB of disk, over its storage_gb of %d",
                u.diskUsedBytes() / (double) (1L << 30), c.storageGb());
        locked(c.id(), () -> {
            Optional<Container> current = containers.find(c.id());
            if (current.isEmpty() || current.get().status() != ContainerStatus.RUNNING) return null;
            LOG.info("container {}: {}", c.id(), reason);
            runtime.stop(c.id(), Duration.ofSeconds(config.stop_grace_seconds()));
            usage.remove(c.id());
            transition(c.id(), x -> x.withStatus(ContainerStatus.STOPPED, reason));
            return null;
        });
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /** The runtime of a placed container; 503 when its host's runtime is away; null when not placed yet. */
    private ContainerRuntime requireRuntimePresent(Container c) {
        if (c.runtimeHost() == null) return null;
        ContainerRuntime runtime = runtimes.get(c.runtimeHost());
        if (runtime == null) {
            throw ApiException.unavailable("runtime host " + c.runtimeHost() + " of container " + c.id()
                    + " is unavailable; try again later");
        }
        return runtime;
    }

    private void fail(String id, String reason) {
        deadlines.remove(id);
        usage.remove(id);
        transition(id, x -> x.withStatus(ContainerStatus.FAILED, reason));
    }

    /** Applies a change in the store and tells listeners when the status changed. */
    private Optional<Container> transition(String id, UnaryOperator<Container> change) {
        ContainerStatus[] before = new ContainerStatus[1];
        Optional<Container> after = containers.update(id, c -> {
            before[0] = c.status();
            return change.apply(c);
        });
        after.ifPresent(c -> {
            if (c.status() != before[0]) publish(c);
        });
        return after;
    }

    private void publish(Container c) {
        if (listeners.isEmpty()) return;
        // the ingress gateway serves a running container's ports on the platform's public address
        String externalIp = c.status() == ContainerStatus.RUNNING ? config.external_address() : null;
        ContainerEvent event = new ContainerEvent(c.id(), c.ownerId(), c.status(), c.statusReason(), externalIp,
                Instant.now());
        eventDelivery.execute(() -> {
            for (ContainerEventListener l : listeners) {
                try {
                    l.onContainerEvent(event);
                } catch (RuntimeException e) {
                    LOG.warn("container event listener {} failed", l, e);
                }
            }
        });
    }

    private void refreshRouter(String id) {
        IngressRouter r = router;
        if (r != null) {
            try {
                r.refresh(id);
            } catch (RuntimeException e) {
                LOG.warn("ingress router refresh of {} failed", id, e);
            }
        }
    }

    /** Whether no runtime event or background work is waiting or running: lets tests start from a quiet state. */
    boolean idle() {
        return work.getActiveCount() == 0 && work.getQueue().isEmpty() && runtimeEvents.getActiveCount() == 0
                && runtimeEvents.getQueue().isEmpty() && pendingConverges.get() == 0;
    }

    private int stripe(String id) {
        return Math.floorMod(id.hashCode(), locks.length);
    }

    private ReentrantLock lockOf(String id) {
        return locks[stripe(id)];
    }

    private <T> T locked(String id, Supplier<T> action) {
        ReentrantLock lock = lockOf(id);
        lock.lock();
        lockEpochs[stripe(id)].incrementAndGet();
        try {
            return action.get();
        } finally {
            lock.unlock();
        }
    }

    private static ApiException notFound(String id) {
        return ApiException.notFound("no such container: " + id);
    }

    private static void closeQuietly(Closeable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("close failed", e);
        }
    }

    private static ThreadFactory threads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** For tests and operators: ids of containers whose provisioning deadline is pending. */
    Collection<String> provisioning() {
        return deadlines.keySet();
    }
}
