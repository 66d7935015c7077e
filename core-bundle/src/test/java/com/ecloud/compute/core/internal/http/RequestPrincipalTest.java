package com.ecloud.compute.core.internal.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.util.List;
import java.util.Set;

import org.glassfish.jersey.server.ContainerRequest;
import org.junit.jupiter.api.Test;

import com.ecloud.compute.auth.Grant;
import com.ecloud.compute.auth.Principal;

import jakarta.ws.rs.core.Response;

/** The scope checks the resources make, and what the client sees of them. */
class RequestPrincipalTest {

    private final ErrorMapper errors = new ErrorMapper();

    private static ContainerRequest as(Principal principal) {
        ContainerRequest request = Requests.request("GET", "/compute/containers");
        request.setProperty(RequestPrincipal.PROPERTY, principal);
        return request;
    }

    private static Principal principal(String uid, Grant... grants) {
        return new Principal(uid, List.of(grants), Instant.now().plusSeconds(60));
    }

    @Test
    void aScopeCoversEverythingBeneathIt() {
        Principal alice = principal("alice", new Grant("compute.alice", Grant.ALL_ACTIONS));
        assertSame(alice, RequestPrincipal.require(as(alice), "compute.alice.containers.abc12345", "delete"));
        assertSame(alice, RequestPrincipal.require(as(alice), "compute.alice.keys", "create"));
    }

    @Test
    void aMissingScopeOrActionIs403WithAJsonBody() {
        Principal reader = principal("alice", new Grant("compute.alice.containers", Set.of("read")));
        ApiException noAction = assertThrows(ApiException.class,
                () -> RequestPrincipal.require(as(reader), "compute.alice.containers", "create"));
        assertEquals(403, noAction.status());
        Response response = errors.toResponse(noAction);
        assertEquals(403, response.getStatus());
        assertEquals("{\"error\":\"token lacks scope compute.alice.containers with action create\"}",
                response.getEntity());

        ApiException sibling = assertThrows(ApiException.class,
                () -> RequestPrincipal.require(as(reader), "compute.alice.keys", "read"));
        assertEquals(403, sibling.status());
        // compute.alice does not cover compute.alicex
        Principal alice = principal("alice", new Grant("compute.alice", Grant.ALL_ACTIONS));
        assertEquals(403, assertThrows(ApiException.class,
                () -> RequestPrincipal.require(as(alice), "compute.alicex.containers", "read")).status());
    }

    @Test
    void noPrincipalIs401() {
        ApiException e = assertThrows(ApiException.class,
                () -> RequestPrincipal.of(Requests.request("GET", "/compute/containers")));
        assertEquals(401, e.status());
        assertEquals(401, errors.toResponse(e).getStatus());
    }
}
