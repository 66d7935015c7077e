package com.ecloud.compute.core.internal.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionException;

import org.glassfish.jersey.server.ParamException;
import org.glassfish.jersey.server.internal.process.MappableException;
import org.junit.jupiter.api.Test;

import com.ecloud.compute.api.runtime.RuntimeNotFoundException;
import com.ecloud.compute.api.runtime.RuntimeRejectedException;
import com.ecloud.compute.api.runtime.RuntimeUnavailableException;
import com.ecloud.compute.api.runtime.RuntimeUnsupportedException;
import com.ecloud.compute.api.store.ConflictException;
import com.ecloud.compute.api.store.LimitExceededException;
import com.ecloud.compute.api.store.StoreUnavailableException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.InternalServerErrorException;
import jakarta.ws.rs.NotAcceptableException;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotAuthorizedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.core.Response;

class ErrorMapperTest {

    private final ErrorMapper mapper = new ErrorMapper();

    private ApiError map(Throwable e) {
        return mapper.classify(e, "POST", "/compute/containers");
    }

    private static JsonNode body(Response response) throws IOException {
        return new ObjectMapper().readTree((String) response.getEntity());
    }

    private static Set<String> fields(JsonNode node) {
        Set<String> names = new TreeSet<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext();) names.add(it.next());
        return names;
    }

    @Test
    void apiExceptionsKeepTheirStatusAndMessage() throws IOException {
        Response response = mapper.toResponse(ApiException.forbidden("token lacks scope compute.bob with action read"));
        assertEquals(403, response.getStatus());
        assertEquals("application/json", response.getMediaType().toString());
        JsonNode body = body(response);
        assertEquals(Set.of("error"), fields(body));
        assertEquals("token lacks scope compute.bob with action read", body.get("error").asText());
        assertEquals(422, map(ApiException.unprocessable("image lacks arm64")).status());
    }

    @Test
    void a5xxApiExceptionCarriesOnlyErrorAndErrorId() throws IOException {
        Response response = mapper.toResponse(ApiException.unavailable("the platform is starting"));
        assertEquals(503, response.getStatus());
        JsonNode body = body(response);
        assertEquals(Set.of("error", "error_id"), fields(body));
        assertTrue(body.get("error_id").asText().matches("[a-z0-9]{12}"));
    }

    @Test
    void anythingElseIs500WithAnIdAndNoExceptionText() throws IOException {
        Response response = mapper.toResponse(new IllegalStateException("secret internals at /var/lib/ecloud"));
        assertEquals(500, response.getStatus());
        JsonNode body = body(response);
        assertEquals(Set.of("error", "error_id"), fields(body));
        assertEquals("internal error", body.get("error").asText());
        assertFalse(((String) response.getEntity()).contains("secret"));
        assertFalse(((String) response.getEntity()).contains("IllegalState"));
        // two errors, two ids
        assertFalse(map(new RuntimeException()).errorId().equals(map(new RuntimeException()).errorId()));
    }

    @Test
    void jerseyWrappersAreLookedThrough() {
        assertEquals(409, map(new MappableException(new LimitExceededException("at most 3 containers"))).status());
        assertEquals(403, map(new MappableException(new MappableException(ApiException.forbidden("no")))).status());
        assertEquals(400, map(new CompletionException(ApiException.badRequest("bad name"))).status());
        assertEquals(404, map(new MappableException(new NotFoundException())).status());
    }

    @Test
    void anOversizedBodyIs413WhereverJerseyWrappedIt() {
        BodyTooLargeException tooLarge = new BodyTooLargeException(ApiJson.MAX_BODY_BYTES);
        for (Throwable e : new Throwable[] { tooLarge, new MappableException(tooLarge),
                new ProcessingException("Error reading entity from input stream", tooLarge),
                new MappableException("Exception obtaining parameters", new MappableException(tooLarge)) }) {
            ApiError error = map(e);
            assertEquals(413, error.status());
            assertEquals("{\"error\":\"request body exceeds 1 MiB\"}", error.json());
        }
    }

    @Test
    void unknownRoutesNameMethodAndPath() {
        ApiError error = mapper.classify(new NotFoundException(), "GET", "/compute/nope");
        assertEquals(404, error.status());
        assertEquals("no such route: GET /compute/nope", error.message());
        assertEquals("no such route", mapper.classify(new NotFoundException(), null, null).message());
        // a message written for the client is kept
        assertEquals("no such container", map(new NotFoundException("no such container")).message());
    }

    @Test
    void wrongMethodIs405AndKeepsAllow() {
        NotAllowedException e = new NotAllowedException("GET", new String[] { "POST" });
        Response response = mapper.toResponse(e);
        assertEquals(405, response.getStatus());
        assertEquals("method not allowed", map(e).message());
        String allow = response.getHeaderString("Allow");
        assertNotNull(allow);
        assertTrue(allow.contains("GET") && allow.contains("POST"), allow);
    }

    @Test
    void mediaTypeRefusalsAreJson() {
        ApiError unsupported = map(new NotSupportedException());
        assertEquals(415, unsupported.status());
        assertEquals("request body must be sent as application/json", unsupported.message());
        assertEquals(406, map(new NotAcceptableException()).status());
    }

    @Test
    void otherJerseyClientErrorsKeepTheirStatus() {
        assertEquals(400, map(new BadRequestException()).status());
        assertEquals("bad request", map(new BadRequestException()).message());
        ApiError unauthorized = map(new NotAuthorizedException("Bearer"));
        assertEquals(401, unauthorized.status());
        assertEquals("Bearer", unauthorized.headers().get("WWW-Authenticate"));
    }

    @Test
    void jersey5xxIsLoggedWithAnId() {
        ApiError error = map(new InternalServerErrorException(new IllegalStateException("no writer for Foo")));
        assertEquals(500, error.status());
        assertEquals("internal error", error.message());
        assertNotNull(error.errorId());
    }

    @Test
    void badParametersSayWhich() {
        ApiError query = map(new ParamException.QueryParamException(new NumberFormatException("x"), "tail", "100"));
        assertEquals(400, query.status());
        assertEquals("invalid value for query parameter 'tail'", query.message());
        ApiError header = map(new ParamException.HeaderParamException(new IllegalArgumentException(), "X-N", null));
        assertEquals(400, header.status());
        ApiError path = map(new ParamException.PathParamException(new NumberFormatException(), "port", null));
        assertEquals(404, path.status());
    }

    @Test
    void storeErrors() {
        ApiError limit = map(new LimitExceededException("at most 3 containers per user"));
        assertEquals(409, limit.status());
        assertEquals("at most 3 containers per user", limit.message());
        assertNull(limit.errorId());
        assertEquals(409, map(new ConflictException("a key of that name exists")).status());
        ApiError store = map(new StoreUnavailableException("jdbc:postgresql://db/ecloud refused", new IOException()));
        assertEquals(503, store.status());
        assertEquals("store unavailable", store.message());
        assertNotNull(store.errorId());
    }

    @Test
    void runtimeErrors() {
        ApiError unavailable = map(new RuntimeUnavailableException("docker engine not reachable"));
        assertEquals(503, unavailable.status());
        assertEquals("runtime unavailable: docker engine not reachable", unavailable.message());
        assertNotNull(unavailable.errorId());
        assertEquals(422, map(new RuntimeRejectedException("image has no arm64 variant")).status());
        assertEquals(422, map(new RuntimeNotFoundException("no such image")).status());
        ApiError unsupported = map(new RuntimeUnsupportedException("resize is not supported"));
        assertEquals(501, unsupported.status());
        assertNotNull(unsupported.errorId());
    }

    @Test
    void messagesAreJsonEscaped() throws IOException {
        ApiError error = map(ApiException.badRequest("name \"a\\b\" has\na newline"));
        assertEquals("name \"a\\b\" has\na newline", new ObjectMapper().readTree(error.json()).get("error").asText());
    }
}
