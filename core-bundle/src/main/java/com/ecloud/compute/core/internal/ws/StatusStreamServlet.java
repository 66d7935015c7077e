package com.ecloud.compute.core.internal.ws;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServerContainer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.event.ContainerEvent;
import com.ecloud.compute.api.event.ContainerEventListener;
import com.ecloud.compute.api.model.Container;
import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.auth.TokenVerifier;
import com.ecloud.compute.core.internal.http.ApiJson;
import com.ecloud.compute.core.internal.lifecycle.ContainerLifecycle;
import com.ecloud.compute.core.internal.rest.Views;
import com.fasterxml.jackson.core.JsonProcessingException;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code /compute/ws}: the caller's containers, then every status change of them, pushed from the lifecycle's
 * {@link ContainerEvent}s. A plain servlet of the whiteboard that authenticates (401 / 403 / 429 with a JSON
 * body, before any upgrade) and then asks Jetty's WebSocket container, which Felix HTTP creates when
 * {@code org.apache.felix.jetty.websocket.enable=true}, to upgrade the request.
 */
@Component(service = { Servlet.class, ContainerEventListener.class }, configurationPid = StatusStreamConfig.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = StatusStreamConfig.class)
@HttpWhiteboardServletName("ecloud-status-stream")
@HttpWhiteboardServletPattern(StatusStreamServlet.PATH)
public class StatusStreamServlet extends HttpServlet implements ContainerEventListener {
    private static final long serialVersionUID = 1L;

    static final String PATH = "/compute/ws";

    private static final Logger LOG = LoggerFactory.getLogger(StatusStreamServlet.class);

    private final transient TokenVerifier verifier;
    private final transient ContainerLifecycle lifecycle;
    private final transient ApiJson json;
    private final transient WebSocketOrigins origins;
    private final transient StatusStreamConfig config;
    private final transient StatusHub hub;
    private final transient Set<StatusSocket> sockets = ConcurrentHashMap.newKeySet();
    private final transient ScheduledExecutorService pinger;

    @Activate
    public StatusStreamServlet(@Reference TokenVerifier verifier, @Reference ContainerLifecycle lifecycle,
            @Reference ApiJson json, @Reference WebSocketOrigins origins, StatusStreamConfig config) {
        this.verifier = verifier;
        this.lifecycle = lifecycle;
        this.json = json;
        this.origins = origins;
        this.config = config;
        this.hub = new StatusHub(Math.max(1, config.max_sockets_per_user()));
        this.pinger = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ecloud-status-stream-pings");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(1, config.ping_interval_seconds());
        Duration pongTimeout = Duration.ofSeconds(Math.max(config.pong_timeout_seconds(), 2 * every));
        pinger.scheduleWithFixedDelay(() -> {
            long now = System.nanoTime();
            sockets.forEach(s -> s.ping(now, pongTimeout));
        }, every, every, TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() {
        pinger.shutdownNow();
        // no more events will come: tell clients to reconnect (to the next instance) rather than wait forever
        sockets.forEach(s -> s.close(1001, "server going away"));
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!origins.check(request, response)) return;
        Optional<Principal> authenticated = UpgradeRequests.authenticate(request, response, verifier);
        if (authenticated.isEmpty()) return;
        Principal principal = authenticated.get();
        String uid = principal.uid();
        String scope = "compute." + uid;
        if (!principal.permits(scope, "read")) {
            UpgradeRequests.refuse(response, 403, "token lacks scope " + scope + " with action read", null);
            return;
        }
        JettyWebSocketServerContainer container = JettyWebSocketServerContainer.getContainer(getServletContext());
        if (container == null) {
            LOG.error("no Jetty WebSocket container: is org.apache.felix.jetty.websocket.enable=true set?");
            UpgradeRequests.refuse(response, 503, "WebSocket support is not available", null);
            return;
        }
        if (!hub.reserve(uid)) {
            UpgradeRequests.refuse(response, 429, "too many status sockets for this user (at most "
                    + Math.max(1, config.max_sockets_per_user()) + ")", null);
            return;
        }
        UpgradeRequests.upgrade(container, (req, resp) -> {
            StatusSocket socket = new StatusSocket(uid, hub, () -> containersMessage(uid), config, sockets::remove);
            sockets.add(socket);
            return socket;
        }, request, response, () -> hub.release(uid));
    }

    @Override
    public void onContainerEvent(ContainerEvent event) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("container_id", event.containerId());
        data.put("status", event.status().id());
        data.put("external_ip", event.externalIp());
        if (event.statusReason() != null) data.put("status_reason", event.statusReason());
        hub.publish(event.ownerId(), message("container_status", data));
    }

    private String containersMessage(String uid) {
        List<Map<String, Object>> views = lifecycle.list(uid).stream().map(this::view).toList();
        return message("containers", views);
    }

    /** The same view of a container as the REST API's. */
    private Map<String, Object> view(Container c) {
        return Views.container(c, lifecycle.usage(c.id()), lifecycle.config());
    }

    private String message(String type, Object data) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type);
        m.put("data", data);
        try {
            return json.mapper().writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("status message not serialisable", e);
        }
    }
}
