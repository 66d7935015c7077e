package com.ecloud.compute.core.internal.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

import org.glassfish.jersey.server.ContainerRequest;
import org.junit.jupiter.api.Test;

import jakarta.ws.rs.core.Response;

class RequestBodyLimitTest {

    private final RequestBodyLimit limit = new RequestBodyLimit();

    private static ContainerRequest post(String contentLength, byte[] body) {
        ContainerRequest request = Requests.request("POST", "/compute/containers");
        if (contentLength != null) request.header("Content-Length", contentLength);
        request.setEntityStream(new ByteArrayInputStream(body));
        return request;
    }

    @Test
    void aDeclaredLengthOverTheLimitIs413AtOnce() {
        for (String length : new String[] { "1048577", "99999999999", "999999999999999999999999" }) {
            ContainerRequest request = post(length, new byte[0]);
            limit.filter(request);
            Response response = request.getAbortResponse();
            assertEquals(413, response.getStatus(), length);
            assertEquals("{\"error\":\"request body exceeds 1 MiB\"}", response.getEntity());
        }
    }

    @Test
    void aBodyUpToTheLimitPasses() throws IOException {
        ContainerRequest request = post("1048576", new byte[1048576]);
        limit.filter(request);
        assertNull(request.getAbortResponse());
        assertEquals(1048576, request.getEntityStream().readAllBytes().length);
    }

    @Test
    void aChunkedBodyIsCountedWhileRead() {
        // no Content-Length: the limit is found while reading
        ContainerRequest request = post(null, new byte[1048577]);
        limit.filter(request);
        assertNull(request.getAbortResponse());
        InputStream body = request.getEntityStream();
        assertThrows(BodyTooLargeException.class, body::readAllBytes);
    }

    @Test
    void anUnderstatedLengthIsCaughtToo() {
        ContainerRequest request = post("10", new byte[1048577]);
        limit.filter(request);
        assertThrows(BodyTooLargeException.class, request.getEntityStream()::readAllBytes);
    }
}
