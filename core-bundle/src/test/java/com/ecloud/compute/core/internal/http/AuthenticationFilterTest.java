package com.ecloud.compute.core.internal.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.glassfish.jersey.server.ContainerRequest;
import org.junit.jupiter.api.Test;

import com.ecloud.compute.auth.Grant;
import com.ecloud.compute.auth.InvalidTokenException;
import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.auth.TokenVerifier;

import jakarta.ws.rs.core.Response;

class AuthenticationFilterTest {

    private final Principal alice = new Principal("alice", List.of(new Grant("compute.alice", Grant.ALL_ACTIONS)),
            Instant.now().plusSeconds(3600));
    private final List<String> verified = new ArrayList<>();
    private final TokenVerifier verifier = token -> {
        verified.add(token);
        if (token.equals("good.token.sig")) return alice;
        throw new InvalidTokenException("token expired");
    };
    private final AuthenticationFilter filter = new AuthenticationFilter(verifier);

    private ContainerRequest filtered(String method, String pathAndQuery, String authorization) {
        ContainerRequest request = Requests.request(method, pathAndQuery);
        if (authorization != null) request.header("Authorization", authorization);
        filter.filter(request);
        return request;
    }

    private static void assertRefused(ContainerRequest request, String error, String challenge) {
        Response response = request.getAbortResponse();
        assertEquals(401, response.getStatus());
        assertEquals("{\"error\":\"" + error + "\"}", response.getEntity());
        assertEquals("application/json", response.getMediaType().toString());
        assertEquals(challenge, response.getHeaderString("WWW-Authenticate"));
        assertNull(request.getProperty(RequestPrincipal.PROPERTY));
    }

    @Test
    void healthProbesNeedNoToken() {
        for (String path : List.of("/livez", "/readyz", "/livez/", "/readyz?verbose=1")) {
            ContainerRequest request = filtered("GET", path, null);
            assertNull(request.getAbortResponse(), path);
        }
        assertTrue(verified.isEmpty());
    }

    @Test
    void everythingElseNeedsOne() {
        for (String path : List.of("/compute/containers", "/compute", "/", "/nope", "/livez/x", "/compute/livez",
                "/live%7A", "/compute/echo;x=1")) {
            assertRefused(filtered("GET", path, null), "missing bearer token", "Bearer");
        }
    }

    @Test
    void aValidBearerHeaderLeavesThePrincipal() {
        ContainerRequest request = filtered("POST", "/compute/containers", "Bearer good.token.sig");
        assertNull(request.getAbortResponse());
        assertSame(alice, request.getProperty(RequestPrincipal.PROPERTY));
        assertSame(alice, RequestPrincipal.of(request));
    }

    @Test
    void theQueryParameterWorksWhenNoHeaderIsSent() {
        ContainerRequest request = filtered("GET", "/compute/containers/abc12345/logs?tail=10&token=good.token.sig",
                null);
        assertNull(request.getAbortResponse());
        assertSame(alice, request.getProperty(RequestPrincipal.PROPERTY));
    }

    @Test
    void aRefusedTokenSaysWhyWithoutEchoingIt() {
        ContainerRequest request = filtered("GET", "/compute/containers", "Bearer bad.token.sig");
        assertRefused(request, "token expired", AuthenticationFilter.CHALLENGE_INVALID);
        assertFalse(((String) request.getAbortResponse().getEntity()).contains("bad.token"));
        assertRefused(filtered("GET", "/compute/containers?token=bad.token.sig", null), "token expired",
                "Bearer error=\"invalid_token\"");
    }

    @Test
    void anotherSchemeIs401() {
        assertRefused(filtered("GET", "/compute/containers", "Basic YWxpY2U6c2VjcmV0"),
                "authorization scheme must be Bearer", AuthenticationFilter.CHALLENGE_INVALID);
        // a wrong header is not rescued by a query token
        assertRefused(filtered("GET", "/compute/containers?token=good.token.sig", "Basic YWxpY2U6c2VjcmV0"),
                "authorization scheme must be Bearer", AuthenticationFilter.CHALLENGE_INVALID);
    }
}
