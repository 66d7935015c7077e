package com.ecloud.compute.gateway.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.ComponentServiceObjects;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.access.ContainerAccess;
import com.ecloud.compute.api.access.SshTarget;
import com.ecloud.compute.api.event.ContainerEvent;
import com.ecloud.compute.api.event.ContainerEventListener;
import com.ecloud.compute.api.ingress.IngressRouter;
import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.model.IngressRule;
import com.ecloud.compute.api.runtime.HostEndpoint;
import com.ecloud.compute.api.store.IngressStore;
import com.ecloud.compute.gateway.internal.proxy.ProxyServer;
import com.ecloud.compute.gateway.internal.proxy.ProxySettings;
import com.ecloud.compute.gateway.internal.tls.GatewayCertificates;

/**
 * The ingress gateway: listens on 80, 443 and every port of 8000-8999 that has a rule (each at port + offset on
 * this host), and routes {@code <id>.compute.<domain>} to the container's target port through the runtime's
 * {@code expose} endpoint, {@code compute.<domain>} to the platform's own API. Rule and status changes are
 * applied when the platform reports them, never by polling.
 */
@Component(configurationPid = IngressGateway.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {IngressRouter.class, ContainerEventListener.class}, immediate = true)
@Designate(ocd = IngressGateway.Config.class)
public final class IngressGateway implements IngressRouter, ContainerEventListener, AutoCloseable {

    public static final String PID = "com.ecloud.compute.gateway";
    static final int FIRST_RULE_PORT = 8000;
    static final int LAST_RULE_PORT = 8999;

    @ObjectClassDefinition(name = "ecloud ingress gateway",
            description = "HTTP and HTTPS routing of <id>.compute.<domain> to containers' ports")
    public @interface Config {
        @AttributeDefinition(description = "Address the listeners bind to (0.0.0.0 in production)")
        String bind_address() default "127.0.0.1";

        @AttributeDefinition(description = "External port P listens on host port P + offset (0 in production; "
                + "10000 lets it run without root: 80 -> 10080, 443 -> 10443, 8000 -> 18000)")
        int port_offset() default 10000;

        @AttributeDefinition(description = "PEM certificate chain for *.compute.<domain>; empty: a local CA in "
                + "<data>/secrets/gateway signs one")
        String tls_cert_file() default "";

        @AttributeDefinition(description = "PEM private key of tls.cert.file")
        String tls_key_file() default "";

        @AttributeDefinition(description = "Serve the platform's API at compute.<domain> on 80 and 443")
        boolean serve_api() default true;

        @AttributeDefinition(description = "Largest request head (request line and headers), bytes: 431 beyond")
        int max_header_bytes() default 8192;

        @AttributeDefinition(description = "Largest request body, MiB: 413 beyond")
        int max_body_mb() default 100;

        @AttributeDefinition(description = "Time to connect to a container's port, ms: 502 beyond")
        int connect_timeout_ms() default 5000;

        @AttributeDefinition(description = "Time from a request to its response head, s: 504 beyond")
        int response_timeout_seconds() default 60;

        @AttributeDefinition(description = "Idle client and pooled backend connections are closed after this, s")
        int idle_timeout_seconds() default 60;

        @AttributeDefinition(description = "Idle keep-alive connections kept per container port")
        int backend_idle_connections() default 32;
    }

    private static final Logger LOG = LoggerFactory.getLogger(IngressGateway.class);

    private final Config config;
    private final IngressStore rules;
    private final Supplier<ContainerAccess> accessSource;
    private final Path dataDirectory;
    private final HostEndpoint api;
    private final String bindAddress;
    private final int offset;
    /** External port -> its listener; guarded by this. */
    private final Map<Integer, ProxyServer.Listener> listeners = new TreeMap<>();
    /** Starting, then status events, are handled here, off the platform's threads. */
    private final ExecutorService eventWork;
    private final CountDownLatch started = new CountDownLatch(1);
    // set once by start(), on eventWork
    private volatile ContainerAccess access;
    private volatile RouteTable table;
    private volatile GatewayCertificates certificates;
    private volatile ProxyServer proxy;

    /**
     * The access to containers is taken after activation, on a thread of the gateway's: the platform's lifecycle
     * (behind it) uses the gateway's own services, and taking it during activation made a circular reference.
     */
    @Activate
    public IngressGateway(Config config, BundleContext context, @Reference IngressStore rules,
            @Reference ComponentServiceObjects<ContainerAccess> access) {
        this(config, dataDirectory(context.getProperty("ecloud.data")),
                config.serve_api() ? apiEndpoint(context) : null, rules, access::getService);
    }

    /** Outside OSGi (tests): {@code api} is where {@code compute.<domain>} goes, or null. */
    IngressGateway(Config config, Path dataDirectory, HostEndpoint api, IngressStore rules,
            Supplier<ContainerAccess> accessSource) {
        this.config = config;
        this.rules = rules;
        this.accessSource = accessSource;
        this.dataDirectory = dataDirectory;
        this.api = api;
        this.bindAddress = config.bind_address();
        this.offset = Math.max(0, config.port_offset());
        this.eventWork = Executors.newSingleThreadExecutor(runnable -> {
            Thread t = new Thread(runnable, "ecloud-gateway-routes");
            t.setDaemon(true);
            return t;
        });
        eventWork.execute(this::start);
    }

    private void start() {
        try {
            access = accessSource.get();
            String domain = access.domain();
            RouteTable routes = new RouteTable(domain, api);
            certificates = GatewayCertificates.loadOrCreate(dataDirectory.resolve("secrets").resolve("gateway"), domain,
                    config.tls_cert_file(), config.tls_key_file());
            proxy = new ProxyServer(new ProxySettings(Math.max(1024, config.max_header_bytes()),
                    Math.max(1, config.max_body_mb()) * 1024L * 1024L,
                    Duration.ofMillis(Math.max(1, config.connect_timeout_ms())),
                    Duration.ofSeconds(Math.max(1, config.response_timeout_seconds())),
                    Duration.ofSeconds(Math.max(1, config.idle_timeout_seconds())),
                    Math.max(0, config.backend_idle_connections())), routes);
            table = routes;
            synchronized (this) {
                syncListeners();
            }
            LOG.info("ingress gateway for *.compute.{} on {} (port offset {}); CA for clients: {}", domain, bindAddress,
                    offset, certificates.caFile() == null ? "(configured certificate)" : certificates.caFile());
        } catch (RuntimeException e) {
            LOG.error("ingress gateway cannot start: {}", e.getMessage(), e);
            return;
        } finally {
            started.countDown();
        }
        // the routes of every container with rules; requests before that get "no container" answers
        refreshAll();
    }

    /** Waits (briefly) until started; false when it could not start. */
    boolean awaitStarted() {
        try {
            started.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return table != null;
    }

    @Override
    public void refresh(String containerId) {
        if (awaitStarted()) refreshNow(containerId);
    }

    @Override
    public void onContainerEvent(ContainerEvent event) {
        // only containers with rules have routes; a running one may have a new address
        RouteTable routes = table;
        if (routes == null || routes.get(event.containerId()) == null) return;
        eventWork.execute(() -> refreshNow(event.containerId()));
    }

    /** Reads the container's rules and status, reaches its target ports, and replaces its routes. */
    synchronized void refreshNow(String containerId) {
        try {
            table.put(containerId, load(containerId));
        } catch (RuntimeException e) {
            LOG.warn("ingress routes of {} not refreshed: {}", containerId, e.toString());
        }
        syncListeners();
    }

    private RouteTable.ContainerRoutes load(String containerId) {
        List<IngressRule> containerRules = rules.list(containerId);
        if (containerRules.isEmpty()) return null;
        Optional<SshTarget> container = access.sshTarget(containerId);
        if (container.isEmpty()) return null;
        ContainerStatus status = container.get().status();
        Map<Integer, Integer> targetByPort = new HashMap<>();
        for (IngressRule rule : containerRules) targetByPort.put(rule.port(), rule.targetPort());
        Map<Integer, HostEndpoint> endpoints = new HashMap<>();
        if (status == ContainerStatus.RUNNING) {
            for (int target : new LinkedHashSet<>(targetByPort.values())) {
                try {
                    HostEndpoint endpoint = access.expose(containerId, target);
                    endpoints.put(target, endpoint);
                    LOG.info("ingress: port {} of {} is reached at {}:{}", target, containerId, endpoint.host(),
                            endpoint.port());
                } catch (RuntimeException e) {
                    // answered with 502 naming the port until the next refresh
                    LOG.info("port {} of {} cannot be reached: {}", target, containerId, e.getMessage());
                }
            }
        }
        return new RouteTable.ContainerRoutes(containerId, status, targetByPort, endpoints);
    }

    private void refreshAll() {
        Set<String> ids = new LinkedHashSet<>();
        try {
            for (IngressRule rule : rules.listAll()) ids.add(rule.containerId());
        } catch (RuntimeException e) {
            LOG.warn("ingress rules not loaded: {}", e.toString());
            return;
        }
        for (String id : ids) refreshNow(id);
        LOG.info("ingress gateway: routes of {} containers loaded", ids.size());
    }

    /** Opens a listener for 80, 443 and each rule port of 8000-8999 in use, and closes the others. */
    private void syncListeners() {
        Set<Integer> wanted = new LinkedHashSet<>(List.of(RouteTable.HTTP, RouteTable.HTTPS));
        for (int port : table.portsInUse()) {
            if (port >= FIRST_RULE_PORT && port <= LAST_RULE_PORT) wanted.add(port);
        }
        listeners.entrySet().removeIf(open -> {
            if (wanted.contains(open.getKey())) return false;
            open.getValue().close();
            LOG.info("ingress gateway: port {} closed (no rule uses it)", open.getKey());
            return true;
        });
        for (int port : wanted) {
            if (listeners.containsKey(port)) continue;
            try {
                listeners.put(port, proxy.listen(bindAddress, port + offset, port,
                        port == RouteTable.HTTPS ? certificates.tlsHandlers() : null));
                LOG.info("ingress gateway: port {} listening on {}:{}", port, bindAddress, port + offset);
            } catch (RuntimeException e) {
                // tried again at the next change
                LOG.warn("ingress gateway: port {} cannot listen on {}:{}: {}", port, bindAddress, port + offset,
                        e.getMessage());
            }
        }
    }

    /** External ports listened on (tests). */
    synchronized Set<Integer> listening() {
        return Set.copyOf(listeners.keySet());
    }

    @Deactivate
    @Override
    public void close() {
        eventWork.shutdownNow();
        try {
            eventWork.awaitTermination(10, TimeUnit.SECONDS); // start() may be opening listeners
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            listeners.values().forEach(ProxyServer.Listener::close);
            listeners.clear();
        }
        if (proxy != null) proxy.close();
        LOG.info("ingress gateway stopped");
    }

    private static HostEndpoint apiEndpoint(BundleContext context) {
        String port = context.getProperty("org.osgi.service.http.port");
        if (port == null || port.isBlank()) return null;
        String host = context.getProperty("org.apache.felix.http.host");
        if (host == null || host.isBlank() || host.equals("0.0.0.0") || host.equals("::")) host = "127.0.0.1";
        return new HostEndpoint(host, Integer.parseInt(port.trim()));
    }

    private static Path dataDirectory(String ecloudData) {
        return Path.of(ecloudData == null || ecloudData.isBlank() ? "data" : ecloudData);
    }
}
