package com.ecloud.compute.core.internal.ws.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import com.ecloud.compute.api.runtime.LogLine;
import com.fasterxml.jackson.databind.ObjectMapper;

class StreamRequestTest {

    @Test
    void onlyTheTwoStreamPathsAreStreams() {
        assertEquals(Optional.of(new StreamRequest("abc12345", StreamRequest.Kind.LOGS)),
                StreamRequest.parse("/compute/containers/abc12345/logs"));
        assertEquals(Optional.of(new StreamRequest("abc12345", StreamRequest.Kind.TERMINAL)),
                StreamRequest.parse("/compute/containers/abc12345/terminal"));
        // the REST routes under the same prefix pass through
        for (String rest : new String[] { "/compute/containers", "/compute/containers/", "/compute/containers/abc12345",
                "/compute/containers/abc12345/start", "/compute/containers/abc12345/logs/", "/compute/containers//logs",
                "/compute/containers/abc12345/logs/x", "/compute/containers/abc12345/ingress", "/compute/ws", null }) {
            assertFalse(StreamRequest.parse(rest).isPresent(), rest);
        }
    }

    @Test
    void actionsPerStream() {
        assertEquals("read", StreamRequest.Kind.LOGS.action);
        assertEquals("update", StreamRequest.Kind.TERMINAL.action);
    }

    @Test
    void tailIsBounded() {
        assertEquals(100, StreamRequest.tail(null, 100, 10000));
        assertEquals(0, StreamRequest.tail(new String[] { "0" }, 100, 10000));
        assertEquals(10000, StreamRequest.tail(new String[] { "10000" }, 100, 10000));
        for (String bad : new String[] { "-1", "10001", "x", "", "1.5", "99999999999" }) {
            assertThrows(IllegalArgumentException.class, () -> StreamRequest.tail(new String[] { bad }, 100, 10000), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> StreamRequest.tail(new String[] { "1", "2" }, 100, 10000));
    }

    @Test
    void logLinesHaveNineFractionDigits() {
        assertEquals("2026-11-30T14:22:01.123456789Z hello",
                LogSocket.format(new LogLine(Instant.parse("2026-11-30T14:22:01.123456789Z"), false, "hello")));
        assertEquals("2026-11-30T14:22:01.000000000Z ",
                LogSocket.format(new LogLine(Instant.parse("2026-11-30T14:22:01Z"), true, "")));
    }

    @Test
    void resizeMessages() {
        ObjectMapper json = new ObjectMapper();
        assertEquals(new TerminalSocket.Resize(120, 40),
                TerminalSocket.Resize.parse(json, "{\"type\":\"resize\",\"cols\":120,\"rows\":40}"));
        assertEquals(new TerminalSocket.Resize(1000, 1),
                TerminalSocket.Resize.parse(json, "{\"type\":\"resize\",\"cols\":1000,\"rows\":1}"));
        for (String bad : new String[] { "", "nope", "[]", "{\"type\":\"resize\",\"cols\":0,\"rows\":40}",
                "{\"type\":\"resize\",\"cols\":1001,\"rows\":40}", "{\"type\":\"resize\",\"cols\":\"80\",\"rows\":40}",
                "{\"type\":\"resize\",\"cols\":80}", "{\"type\":\"other\",\"cols\":80,\"rows\":24}",
                "{\"type\":\"resize\",\"cols\":80.5,\"rows\":24}" }) {
            assertNull(TerminalSocket.Resize.parse(json, bad), bad);
        }
    }

    @Test
    void slotsPerUser() {
        SocketSlots slots = new SocketSlots(2);
        assertTrue(slots.reserve("a"));
        assertTrue(slots.reserve("a"));
        assertFalse(slots.reserve("a"));
        assertTrue(slots.reserve("b"));
        slots.release("a");
        assertTrue(slots.reserve("a"));
        slots.release("a");
        slots.release("a");
        slots.release("a");
        assertEquals(0, slots.held("a"));
    }
}
