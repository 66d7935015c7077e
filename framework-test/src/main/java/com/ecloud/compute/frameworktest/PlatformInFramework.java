package com.ecloud.compute.frameworktest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

import com.ecloud.compute.auth.TokenIssuer;

/**
 * The platform running in this very framework, configured as the launcher configures it (its configuration
 * files' PIDs and values), but through Configuration Admin and on ports found free: HTTP (picked by Felix HTTP),
 * the SSH gateway and the ingress gateway's offset. The operators' SSH shell stays unconfigured, hence off: the
 * test swaps bundles with the framework API itself.
 */
final class PlatformInFramework {

    static final String DOCKER_RUNTIME_BUNDLE = "com.ecloud.compute.runtime.docker";
    static final String DOCKER_RUNTIME_FACTORY_PID = "com.ecloud.compute.runtime.docker";
    /** Felix HTTP's runtime service (servlet whiteboard 2.0), named by string: the test needs no import of it. */
    static final String HTTP_SERVICE_RUNTIME = "org.osgi.service.servlet.runtime.HttpServiceRuntime";
    static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

    /**
     * Short timings, so that stops and reconciliation happen within the test. The orphan grace keeps its default
     * (300 s, longer than the test): the engine is shared, and containers without a platform label would count
     * as this platform's too.
     */
    static final Map<String, String> FAST_PLATFORM = Map.of(
            "reconcile.interval.seconds", "5",
            "stop.grace.seconds", "2");

    private final BundleContext context;
    private final int httpPort;

    private PlatformInFramework(BundleContext context, int httpPort) {
        this.context = context;
        this.httpPort = httpPort;
    }

    /** Gives the platform its configuration and waits until {@code /readyz} answers 200. */
    static PlatformInFramework configureAndAwaitReady() {
        BundleContext context = FrameworkUtil.getBundle(PlatformInFramework.class).getBundleContext();
        int httpPort = httpPortOf(context);
        int sshPort = freePort();
        int gatewayOffset = freeGatewayOffset();

        Map<String, Map<String, String>> configurations = new LinkedHashMap<>();
        // the Jakarta REST whiteboard serves nothing until its servlet adapter is configured
        configurations.put("JakartarsServletWhiteboardRuntimeComponent", Map.of("jersey.context.path", "/"));
        // the platform's own components wait for their configuration; empty means every default
        Map<String, String> platform = new LinkedHashMap<>(FAST_PLATFORM);
        platform.put("ssh.public.port", Integer.toString(sshPort));
        configurations.put("com.ecloud.compute.platform", platform);
        configurations.put("com.ecloud.compute.auth", Map.of());
        configurations.put("com.ecloud.compute.images", Map.of());
        configurations.put("com.ecloud.compute.store", Map.of()); // H2 under ecloud.data
        configurations.put("com.ecloud.compute.ssh", Map.of("port", Integer.toString(sshPort), "bind.address", "127.0.0.1"));
        configurations.put("com.ecloud.compute.gateway",
                Map.of("port.offset", Integer.toString(gatewayOffset), "bind.address", "127.0.0.1"));
        configurations.put("com.ecloud.compute.websocket", Map.of());
        configurations.put("com.ecloud.compute.core.internal.ws.StatusStreamServlet", Map.of());
        configurations.put("com.ecloud.compute.core.internal.ws.streams.ContainerStreamsFilter", Map.of());

        ConfigurationAdmin configurationAdmin = service(context, ConfigurationAdmin.class, Duration.ofSeconds(30));
        try {
            for (Map.Entry<String, Map<String, String>> e : configurations.entrySet()) {
                // "?": any bundle may take it, as FileInstall's configurations (no binding to the first user)
                update(configurationAdmin.getConfiguration(e.getKey(), "?"), e.getValue());
            }
            // the local engine as the one Docker host, named as the launcher's default file names it
            update(configurationAdmin.getFactoryConfiguration(DOCKER_RUNTIME_FACTORY_PID, "local", "?"), Map.of(
                    "host.name", "local",
                    "docker.host", "unix://" + DockerEngine.SOCKET));
        } catch (IOException e) {
            throw new UncheckedIOException("Configuration Admin refused a configuration", e);
        }

        PlatformInFramework p = new PlatformInFramework(context, httpPort);
        p.awaitReady();
        return p;
    }

    /**
     * The port Felix HTTP listens on: it picked a free one itself (port 0 in framework-test.bndrun) when the
     * framework started, and publishes it in its runtime service's endpoint. Felix HTTP is deliberately not
     * reconfigured here: a Jetty restarted once the core bundle's connector factory is registered comes up without
     * its HTTP runtime service (the factory's in-memory connector comes first, which Felix HTTP 1.1.8 rejects).
     */
    private static int httpPortOf(BundleContext context) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                ServiceReference<?>[] runtimes = context.getServiceReferences(HTTP_SERVICE_RUNTIME, null);
                for (ServiceReference<?> runtime : runtimes == null ? new ServiceReference<?>[0] : runtimes) {
                    Object endpoints = runtime.getProperty("osgi.http.endpoint");
                    List<String> all = endpoints instanceof String[] many ? List.of(many)
                            : endpoints instanceof Collection<?> c ? c.stream().map(String::valueOf).toList()
                            : endpoints == null ? List.of() : List.of(String.valueOf(endpoints));
                    for (String endpoint : all) {
                        URI uri = URI.create(endpoint);
                        if ("http".equals(uri.getScheme()) && uri.getPort() > 0) return uri.getPort();
                    }
                }
            } catch (InvalidSyntaxException e) {
                throw new AssertionError(e);
            }
            Poll.sleep(Duration.ofMillis(100));
        }
        throw new AssertionError("Felix HTTP published no http endpoint within 30 s");
    }

    private static void update(Configuration configuration, Map<String, String> properties) throws IOException {
        Dictionary<String, Object> d = new Hashtable<>();
        properties.forEach(d::put);
        configuration.update(d);
    }

    private void awaitReady() {
        ComputeApi anonymous = new ComputeApi(base(), null);
        Poll.until("GET /readyz = 200 on port " + httpPort, READY_TIMEOUT, Duration.ofMillis(250),
                () -> anonymous.get("/readyz"), r -> r.status() == 200);
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + httpPort + "/");
    }

    /** The framework property the platform keeps its data under (a fresh directory per run). */
    Path dataDirectory() {
        return Path.of(context.getProperty("ecloud.data")).toAbsolutePath().normalize();
    }

    /** The id the Docker runtime labels this platform's engine containers with. */
    String platformId() {
        return context.getProperty("ecloud.platform.id");
    }

    /** An API client for a new user (unique to this run) with the user's full scope, minted by the platform's issuer. */
    ComputeApi newUser(String label) {
        String uid = "ft-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36) + "-" + label;
        TokenIssuer issuer = service(context, TokenIssuer.class, Duration.ofSeconds(30));
        return new ComputeApi(base(), issuer.issue(uid, List.of(), Duration.ofHours(1)));
    }

    Bundle dockerRuntimeBundle() {
        for (Bundle b : context.getBundles()) {
            if (DOCKER_RUNTIME_BUNDLE.equals(b.getSymbolicName())) return b;
        }
        throw new AssertionError("no bundle " + DOCKER_RUNTIME_BUNDLE + " in the framework");
    }

    /**
     * A service, waited for. Held until the test bundle stops: Configuration Admin is a service factory whose
     * per-bundle object would be disposed of when ungot.
     */
    static <S> S service(BundleContext context, Class<S> type, Duration timeout) {
        ServiceTracker<S, S> tracker = new ServiceTracker<>(context, type, null);
        tracker.open();
        try {
            if (tracker.waitForService(timeout.toMillis()) == null) {
                throw new AssertionError("no " + type.getName() + " service within " + timeout.toSeconds() + " s");
            }
            S s = context.getService(tracker.getServiceReference());
            if (s == null) throw new AssertionError(type.getName() + " went away while it was being got");
            return s;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + type.getName(), e);
        } finally {
            tracker.close();
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An offset at which the ingress gateway's 80 and 443 are free on loopback, below the ephemeral port range. */
    private static int freeGatewayOffset() {
        Random random = new Random();
        for (int attempt = 0; attempt < 100; attempt++) {
            int offset = 11000 + random.nextInt(12000);
            if (isFree(80 + offset) && isFree(443 + offset)) return offset;
        }
        throw new AssertionError("no free ports for the ingress gateway");
    }

    private static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
