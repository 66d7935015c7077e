package com.ecloud.compute.core.internal.ws;

import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Which browser origins may open the platform's WebSockets. Bearer tokens are not cookies, so a page on another
 * origin cannot ride on a user's session and any origin is allowed by default (dashboards and local pages use
 * {@code ?token=}); an operator who wants fewer lists them. Clients that send no Origin (not browsers) are never
 * refused for it. One list for every WebSocket endpoint, changed without closing open sockets.
 */
@Component(service = WebSocketOrigins.class, configurationPid = WebSocketOrigins.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = WebSocketOrigins.Config.class)
public class WebSocketOrigins {

    static final String PID = "com.ecloud.compute.websocket";

    @ObjectClassDefinition(name = "ecloud compute WebSocket origins")
    public @interface Config {
        @AttributeDefinition(description = "Origins (scheme://host[:port], separated by commas) whose pages may "
                + "open WebSockets; empty: any origin")
        String[] allowed_origins() default {};
    }

    private volatile Set<String> allowed;

    @Activate
    public WebSocketOrigins(Config config) {
        modified(config);
    }

    @Modified
    void modified(Config config) {
        String[] origins = config.allowed_origins() == null ? new String[0] : config.allowed_origins();
        // a .cfg file gives one string: entries may also be separated by commas or spaces there
        allowed = Arrays.stream(origins).flatMap(o -> Arrays.stream(o.split("[,\\s]+")))
                .map(WebSocketOrigins::normalize).filter(o -> !o.isEmpty()).collect(Collectors.toUnmodifiableSet());
    }

    /** Whether a request from {@code origin} (null when the client sent none) may upgrade. */
    public boolean allows(String origin) {
        Set<String> list = allowed;
        return list.isEmpty() || origin == null || list.contains("*") || list.contains(normalize(origin));
    }

    /** Refuses a request from an origin not on the list with 403; true when it may go on. */
    public boolean check(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String origin = request.getHeader("Origin");
        if (allows(origin)) return true;
        UpgradeRequests.refuse(response, 403, "origin " + origin + " may not open WebSockets here", null);
        return false;
    }

    private static String normalize(String origin) {
        String o = origin.strip().toLowerCase(Locale.ROOT);
        return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
    }
}
