package com.ecloud.compute.core.internal.http;

import java.util.LinkedHashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsName;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsResource;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.CacheControl;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * Liveness and readiness probes, served without a token ({@link PublicPaths}): {@code GET /livez} answers 200
 * whenever the REST application serves; {@code GET /readyz} answers 200 when {@link Readiness} says so, else 503.
 * Thin on purpose: the whiteboard re-activates resources on every reload (STACK.md pitfall 3).
 */
@Component(service = HealthResource.class)
@JakartarsResource
@JakartarsName("ecloud.health")
@Path("/")
@Produces(MediaType.APPLICATION_JSON)
public class HealthResource {

    private final Readiness readiness;

    @Activate
    public HealthResource(@Reference Readiness readiness) {
        this.readiness = readiness;
    }

    @GET
    @Path("livez")
    public Response live() {
        return uncached(Response.ok(Map.of("status", "ok")));
    }

    @GET
    @Path("readyz")
    public Response ready() {
        Readiness.Report report = readiness.check();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", report.ready() ? "ready" : "not ready");
        body.put("checks", report.checks());
        return uncached(Response.status(report.ready() ? 200 : 503).entity(body));
    }

    private static Response uncached(Response.ResponseBuilder response) {
        CacheControl noStore = new CacheControl();
        noStore.setNoStore(true);
        return response.cacheControl(noStore).build();
    }
}
