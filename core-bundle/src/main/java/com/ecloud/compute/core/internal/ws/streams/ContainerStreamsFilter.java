package com.ecloud.compute.core.internal.ws.streams;

import com.ecloud.compute.core.internal.ws.UpgradeRequests;
import com.ecloud.compute.core.internal.ws.WebSocketOrigins;

import java.io.IOException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServerContainer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardFilterName;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardFilterPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.model.Container;
import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.auth.TokenVerifier;
import com.ecloud.compute.core.internal.http.ApiException;
import com.ecloud.compute.core.internal.http.ApiJson;
import com.ecloud.compute.core.internal.lifecycle.ContainerLifecycle;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code /compute/containers/:id/logs} and {@code /compute/containers/:id/terminal}. A whiteboard filter on
 * {@code /compute/containers/*}, because a servlet pattern cannot name the last segment and a servlet on the
 * prefix would take the REST routes from Jersey: requests whose path is exactly one of the two streams are answered
 * here (authenticated, checked, then upgraded; refusals are JSON 400/401/403/404/409/429/503 before any upgrade);
 * every other request goes down the chain to the REST API untouched.
 */
@Component(service = Filter.class, configurationPid = ContainerStreamsConfig.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ContainerStreamsConfig.class)
@HttpWhiteboardFilterName("ecloud-container-streams")
@HttpWhiteboardFilterPattern("/compute/containers/*")
public class ContainerStreamsFilter implements Filter {

    private static final Logger LOG = LoggerFactory.getLogger(ContainerStreamsFilter.class);

    static final int DEFAULT_TAIL = 100;

    private final TokenVerifier verifier;
    private final ContainerLifecycle lifecycle;
    private final ApiJson json;
    private final WebSocketOrigins origins;
    private final ContainerStreamsConfig config;
    private final SocketSlots slots;
    private final Set<StreamSocket> sockets = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService pinger;
    private final ExecutorService closer;

    @Activate
    public ContainerStreamsFilter(@Reference TokenVerifier verifier, @Reference ContainerLifecycle lifecycle,
            @Reference ApiJson json, @Reference WebSocketOrigins origins, ContainerStreamsConfig config) {
        this.verifier = verifier;
        this.lifecycle = lifecycle;
        this.json = json;
        this.origins = origins;
        this.config = config;
        this.slots = new SocketSlots(config.max_sockets_per_user());
        this.pinger = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "ecloud-stream-pings"));
        AtomicInteger n = new AtomicInteger();
        this.closer = Executors.newCachedThreadPool(r -> daemon(r, "ecloud-terminal-close-" + n.incrementAndGet()));
        long every = Math.max(1, config.ping_interval_seconds());
        pinger.scheduleWithFixedDelay(() -> sockets.forEach(StreamSocket::ping), every, every, TimeUnit.SECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Deactivate
    void deactivate() {
        pinger.shutdownNow();
        // closing a socket ends its log read or exec process (release() on Jetty's close callback)
        sockets.forEach(s -> s.close(1001, "server going away"));
        closer.shutdown();
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse resp, FilterChain chain)
            throws IOException, ServletException {
        if (!(req instanceof HttpServletRequest request) || !(resp instanceof HttpServletResponse response)) {
            chain.doFilter(req, resp);
            return;
        }
        String uri = request.getRequestURI();
        String context = request.getContextPath();
        String path = context != null && !context.isEmpty() && uri.startsWith(context) ? uri.substring(context.length()) : uri;
        Optional<StreamRequest> stream = StreamRequest.parse(path);
        if (stream.isEmpty()) {
            chain.doFilter(req, resp);
            return;
        }
        try {
            serve(stream.get(), request, response);
        } catch (ApiException e) {
            UpgradeRequests.refuse(response, e.status(), e.getMessage(), null);
        }
    }

    private void serve(StreamRequest stream, HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!origins.check(request, response)) return;
        Optional<Principal> authenticated = UpgradeRequests.authenticate(request, response, verifier);
        if (authenticated.isEmpty()) return;
        Principal principal = authenticated.get();
        String uid = principal.uid();
        String scope = "compute." + uid + ".containers." + stream.containerId();
        String action = stream.kind().action;
        if (!principal.permits(scope, action)) {
            UpgradeRequests.refuse(response, 403, "token lacks scope " + scope + " with action " + action, null);
            return;
        }
        int tail = 0;
        if (stream.kind() == StreamRequest.Kind.LOGS) {
            try {
                tail = StreamRequest.tail(request.getParameterValues("tail"), DEFAULT_TAIL, Math.max(0, config.max_tail()));
            } catch (IllegalArgumentException e) {
                UpgradeRequests.refuse(response, 400, e.getMessage(), null);
                return;
            }
        }
        // 404 for another user's container, exactly as the REST API
        Container container = lifecycle.get(uid, stream.containerId());
        if (container.status() != ContainerStatus.RUNNING) {
            UpgradeRequests.refuse(response, 409, "container is not running", null);
            return;
        }
        ContainerRuntime runtime = lifecycle.runtimeOf(container);
        JettyWebSocketServerContainer ws = JettyWebSocketServerContainer.getContainer(request.getServletContext());
        if (ws == null) {
            LOG.error("no Jetty WebSocket container: is org.apache.felix.jetty.websocket.enable=true set?");
            UpgradeRequests.refuse(response, 503, "WebSocket support is not available", null);
            return;
        }
        if (!slots.reserve(uid)) {
            UpgradeRequests.refuse(response, 429, "too many log and terminal sockets for this user (at most " + slots.max() + ")", null);
            return;
        }
        String id = container.id();
        int startTail = tail;
        UpgradeRequests.upgrade(ws, (rq, rs) -> {
            StreamSocket socket = stream.kind() == StreamRequest.Kind.LOGS
                    ? new LogSocket(uid, id, runtime, startTail, config, this::closed)
                    : new TerminalSocket(uid, id, runtime, json.mapper(), closer, config, this::closed);
            sockets.add(socket);
            return socket;
        }, request, response, () -> slots.release(uid));
    }

    private void closed(StreamSocket socket) {
        if (sockets.remove(socket)) slots.release(socket.uid);
    }
}
