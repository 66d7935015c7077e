package com.ecloud.compute.core.internal.rest;

import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsName;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsResource;

import com.ecloud.compute.api.model.SshKey;
import com.ecloud.compute.api.store.KeyStore;
import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.core.internal.http.ApiException;
import com.ecloud.compute.core.internal.http.RequestPrincipal;
import com.ecloud.compute.core.internal.lifecycle.ContainerLifecycle;
import com.fasterxml.jackson.databind.JsonNode;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** /compute/ssh-keys: a user's public keys. */
@Component(service = KeysResource.class)
@JakartarsResource
@JakartarsName("compute-ssh-keys")
@Path("/compute/ssh-keys")
@Produces(MediaType.APPLICATION_JSON)
public class KeysResource {

    private static final int MAX_NAME = 100;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile ContainerLifecycle lifecycle;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile KeyStore keys;

    private KeyStore keys() {
        KeyStore k = keys;
        if (k == null) throw ApiException.unavailable("the store is unavailable");
        return k;
    }

    private ContainerLifecycle lifecycle() {
        ContainerLifecycle l = lifecycle;
        if (l == null) throw ApiException.unavailable("the platform is starting or its store is unavailable");
        return l;
    }

    private static Principal require(ContainerRequestContext request, String action) {
        Principal p = RequestPrincipal.of(request);
        return RequestPrincipal.require(request, "compute." + p.uid() + ".keys", action);
    }

    @GET
    public Map<String, Object> list(@Context ContainerRequestContext request) {
        Principal p = require(request, "read");
        List<Map<String, Object>> all = keys().list(p.uid()).stream().map(Views::key).toList();
        return Map.of("ssh_keys", all);
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response add(@Context ContainerRequestContext request, JsonNode body) {
        Principal p = require(request, "create");
        JsonNode b = JsonFields.object(body);
        String name = JsonFields.requiredString(b, "name").strip();
        if (name.isEmpty() || name.length() > MAX_NAME || name.chars().anyMatch(Character::isISOControl)) {
            throw ApiException.badRequest("name must be 1-" + MAX_NAME + " printable characters");
        }
        SshPublicKeys.Parsed key = SshPublicKeys.parse(JsonFields.requiredString(b, "public_key"));
        int max = lifecycle().config().max_keys_per_user();
        SshKey added = keys().add(p.uid(), name, key.line(), key.fingerprint(), max);
        return Response.status(201).entity(Views.key(added)).build();
    }

    @DELETE
    @Path("{id}")
    public Map<String, Object> delete(@Context ContainerRequestContext request, @PathParam("id") String id) {
        Principal p = require(request, "delete");
        long keyId;
        try {
            keyId = Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw ApiException.notFound("no such SSH key: " + id);
        }
        List<String> usedBy = keys().delete(p.uid(), keyId)
                .orElseThrow(() -> ApiException.notFound("no such SSH key: " + id));
        lifecycle().keyRevoked(usedBy);
        return Map.of("status", "ok");
    }
}
