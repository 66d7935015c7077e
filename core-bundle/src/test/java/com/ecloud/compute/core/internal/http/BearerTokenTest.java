package com.ecloud.compute.core.internal.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import com.ecloud.compute.auth.InvalidTokenException;

class BearerTokenTest {

    private static Optional<String> extract(List<String> header, List<String> query) throws InvalidTokenException {
        return BearerToken.extract(header, query);
    }

    @Test
    void takesTheBearerHeader() throws InvalidTokenException {
        assertEquals(Optional.of("abc.def.ghi"), extract(List.of("Bearer abc.def.ghi"), null));
        // the scheme is case-insensitive; surrounding blanks do not count
        assertEquals(Optional.of("abc.def.ghi"), extract(List.of("bearer   abc.def.ghi "), List.of()));
    }

    @Test
    void fallsBackToTheQueryParameterOnlyWithoutHeader() throws InvalidTokenException {
        assertEquals(Optional.of("q.r.s"), extract(null, List.of("q.r.s")));
        assertEquals(Optional.of("q.r.s"), extract(List.of(), List.of("q.r.s")));
        assertEquals(Optional.of("h.h.h"), extract(List.of("Bearer h.h.h"), List.of("q.r.s")));
    }

    @Test
    void nothingSentIsEmpty() throws InvalidTokenException {
        assertTrue(extract(null, null).isEmpty());
        assertTrue(extract(List.of(), List.of()).isEmpty());
    }

    @Test
    void refusesOtherSchemesAndMalformedHeaders() {
        for (String header : List.of("Basic YWxpY2U6c2VjcmV0", "Token abc", "Bearer", "Bearer ", "Bearerabc",
                "Bearer a b", "", "abc.def.ghi")) {
            InvalidTokenException e = assertThrows(InvalidTokenException.class,
                    () -> extract(List.of(header), List.of("q.r.s")), header);
            assertTrue(!e.getMessage().contains("YWxpY2U6c2VjcmV0") && !e.getMessage().contains("abc"), e.getMessage());
        }
        InvalidTokenException basic = assertThrows(InvalidTokenException.class,
                () -> extract(List.of("Basic YWxpY2U6c2VjcmV0"), null));
        assertEquals("authorization scheme must be Bearer", basic.getMessage());
    }

    @Test
    void refusesAmbiguity() {
        assertThrows(InvalidTokenException.class, () -> extract(List.of("Bearer a", "Bearer b"), null));
        assertThrows(InvalidTokenException.class, () -> extract(null, List.of("a", "b")));
        assertThrows(InvalidTokenException.class, () -> extract(null, List.of("")));
    }
}
