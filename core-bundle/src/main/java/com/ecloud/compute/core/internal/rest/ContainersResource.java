package com.ecloud.compute.core.internal.rest;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsName;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsResource;

import com.ecloud.compute.api.model.Container;
import com.ecloud.compute.api.model.InstanceType;
import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.core.internal.config.PlatformConfig;
import com.ecloud.compute.core.internal.http.ApiException;
import com.ecloud.compute.core.internal.http.RequestPrincipal;
import com.ecloud.compute.core.internal.lifecycle.ContainerLifecycle;
import com.ecloud.compute.core.internal.lifecycle.ContainerRequest;
import com.fasterxml.jackson.databind.JsonNode;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** /compute/containers and everything beneath it except the WebSocket streams. */
@Component(service = ContainersResource.class)
@JakartarsResource
@JakartarsName("compute-containers")
@Path("/compute/containers")
@Produces(MediaType.APPLICATION_JSON)
public class ContainersResource {

    // dynamic so that the API answers 503, not 404, while the platform core is away
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile ContainerLifecycle lifecycle;

    private ContainerLifecycle lifecycle() {
        ContainerLifecycle l = lifecycle;
        if (l == null) throw ApiException.unavailable("the platform is starting or its store is unavailable");
        return l;
    }

    private static String scope(Principal p) {
        return "compute." + p.uid() + ".containers";
    }

    private Principal require(ContainerRequestContext request, String id, String action) {
        Principal p = RequestPrincipal.of(request);
        return RequestPrincipal.require(request, id == null ? scope(p) : scope(p) + "." + id, action);
    }

    private Map<String, Object> view(Container c) {
        ContainerLifecycle l = lifecycle();
        return Views.container(c, l.usage(c.id()), l.config());
    }

    @GET
    public Map<String, Object> list(@Context ContainerRequestContext request) {
        Principal p = require(request, null, "read");
        List<Map<String, Object>> all = lifecycle().list(p.uid()).stream().map(this::view).toList();
        return Map.of("containers", all);
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(@Context ContainerRequestContext request, JsonNode body) {
        Principal p = require(request, null, "create");
        ContainerLifecycle l = lifecycle();
        PlatformConfig cfg = l.config();
        JsonNode b = JsonFields.object(body);
        String name = Validation.containerName(JsonFields.requiredString(b, "name"));
        InstanceType type = JsonFields.string(b, "instance_type")
                .map(t -> InstanceType.parse(t).orElseThrow(() -> ApiException.unprocessable(
                        "instance_type must be one of nano, micro, mini, tiny, small, medium")))
                .orElse(InstanceType.DEFAULT);
        int memory = Validation.range("memory_mb", JsonFields.integer(b, "memory_mb").orElse(cfg.memory_default_mb()),
                cfg.memory_min_mb(), cfg.memory_max_mb());
        int storage = Validation.range("storage_gb", JsonFields.integer(b, "storage_gb").orElse(cfg.storage_default_gb()),
                cfg.storage_min_gb(), cfg.storage_max_gb());
        List<Long> keyIds = JsonFields.longs(b, "ssh_key_ids")
                .orElseThrow(() -> ApiException.badRequest("ssh_key_ids is required (at least one key id)"));
        if (keyIds.isEmpty()) throw ApiException.unprocessable("ssh_key_ids needs at least one key id");
        keyIds = keyIds.stream().distinct().toList();
        boolean ssh = JsonFields.bool(b, "ssh_enabled").orElse(false);
        List<String> mounts = Validation.mountPaths(JsonFields.strings(b, "mount_paths").orElse(List.of("/root")));
        String image = JsonFields.string(b, "image").orElse(l.images().defaultReference());
        Container c = l.create(p.uid(), new ContainerRequest(name, type, memory, storage, keyIds, ssh, mounts, image));
        return Response.status(201).entity(view(c)).build();
    }

    @GET
    @Path("{id}")
    public Map<String, Object> get(@Context ContainerRequestContext request, @PathParam("id") String id) {
        Principal p = require(request, id, "read");
        return view(lifecycle().get(p.uid(), id));
    }

    @DELETE
    @Path("{id}")
    public Map<String, Object> delete(@Context ContainerRequestContext request, @PathParam("id") String id) {
        Principal p = require(request, id, "delete");
        lifecycle().delete(p.uid(), id);
        return Map.of("status", "ok");
    }

    @POST
    @Path("{id}/start")
    public Map<String, Object> start(@Context ContainerRequestContext request, @PathParam("id") String id) {
        Principal p = require(request, id, "update");
        return view(lifecycle().start(p.uid(), id));
    }

    @POST
    @Path("{id}/stop")
    public Map<String, Object> stop(@Context ContainerRequestContext request, @PathParam("id") String id) {
        Principal p = require(request, id, "update");
        return view(lifecycle().stop(p.uid(), id));
    }

    @GET
    @Path("{id}/ssh")
    public Map<String, Object> ssh(@Context ContainerRequestContext request, @PathParam("id") String id) {
        Principal p = require(request, id, "read");
        return Map.of("ssh_enabled", lifecycle().get(p.uid(), id).sshEnabled());
    }

    @PUT
    @Path("{id}/ssh")
    @Consumes(MediaType.APPLICATION_JSON)
    public Map<String, Object> setSsh(@Context ContainerRequestContext request, @PathParam("id") String id, JsonNode body) {
        Principal p = require(request, id, "update");
        boolean enabled = JsonFields.bool(JsonFields.object(body), "ssh_enabled")
                .orElseThrow(() -> ApiException.badRequest("ssh_enabled is required"));
        return Map.of("ssh_enabled", lifecycle().setSshEnabled(p.uid(), id, enabled).sshEnabled());
    }

    @GET
    @Path("{id}/ingress")
    public Map<String, Object> ingress(@Context ContainerRequestContext request, @PathParam("id") String id) {
        Principal p = require(request, id, "read");
        return Map.of("rules", lifecycle().ingressRules(p.uid(), id).stream().map(Views::rule).toList());
    }

    @POST
    @Path("{id}/ingress")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response addIngress(@Context ContainerRequestContext request, @PathParam("id") String id, JsonNode body) {
        Principal p = require(request, id, "update");
        JsonNode b = JsonFields.object(body);
        int port = Validation.ingressPort(JsonFields.integer(b, "port").orElseThrow(() -> ApiException.badRequest("port is required")));
        int target = Validation.targetPort(JsonFields.integer(b, "target_port").orElse(port));
        return Response.status(201).entity(Views.rule(lifecycle().addIngress(p.uid(), id, port, target))).build();
    }

    @DELETE
    @Path("{id}/ingress/{port}")
    public Map<String, Object> deleteIngress(@Context ContainerRequestContext request, @PathParam("id") String id,
            @PathParam("port") String port) {
        Principal p = require(request, id, "update");
        int number;
        try {
            number = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("port must be an integer");
        }
        lifecycle().deleteIngress(p.uid(), id, number);
        return Map.of("status", "ok");
    }

    @GET
    @Path("{id}/mounts")
    public Map<String, Object> mounts(@Context ContainerRequestContext request, @PathParam("id") String id) {
        Principal p = require(request, id, "read");
        return Map.of("mount_paths", lifecycle().get(p.uid(), id).mountPaths());
    }

    @PUT
    @Path("{id}/mounts")
    @Consumes(MediaType.APPLICATION_JSON)
    public Map<String, Object> setMounts(@Context ContainerRequestContext request, @PathParam("id") String id, JsonNode body) {
        Principal p = require(request, id, "update");
        List<String> paths = Validation.mountPaths(JsonFields.strings(JsonFields.object(body), "mount_paths")
                .orElseThrow(() -> ApiException.badRequest("mount_paths is required")));
        boolean restarted = lifecycle().updateMounts(p.uid(), id, paths);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mount_paths", paths);
        m.put("restarted", restarted);
        return m;
    }
}
