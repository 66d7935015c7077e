package com.ecloud.compute.ssh.internal.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class LineEditorTest {

    private final ByteArrayOutputStream echo = new ByteArrayOutputStream();

    private GogoCommand.LineEditor editor(String typed, boolean terminal) {
        return new GogoCommand.LineEditor(new ByteArrayInputStream(typed.getBytes(StandardCharsets.UTF_8)), echo, terminal);
    }

    @Test
    void aTerminalGetsEchoBackspaceKillLineAndInterrupt() throws Exception {
        GogoCommand.LineEditor e = editor("lbx\u007f\rjunk\u0015compute:hosts\rhalf\u0003lb\r", true);
        assertEquals("lb", e.readLine("> "));
        assertEquals("compute:hosts", e.readLine("> "), "Ctrl-U erased the junk");
        assertEquals("lb", e.readLine("> "), "Ctrl-C dropped the half line");
        assertNull(e.readLine("> "), "end of input");
        String shown = echo.toString(StandardCharsets.UTF_8);
        assertTrue(shown.startsWith("> lbx\b \b\r\n> "), shown);
        assertTrue(shown.contains("^C\r\n> "), shown);
    }

    @Test
    void arrowsWalkTheHistory() throws Exception {
        GogoCommand.LineEditor e = editor("first\rsecond\r\u001b[A\u001b[A\r\u001b[A\u001b[B\r", true);
        assertEquals("first", e.readLine("> "));
        assertEquals("second", e.readLine("> "));
        assertEquals("first", e.readLine("> "), "up twice: the line before the last");
        assertEquals("", e.readLine("> "), "up then down: back to an empty line");
    }

    @Test
    void ctrlDOnAnEmptyLineEndsAndAPipeIsReadAsLines() throws Exception {
        assertNull(editor("\u0004lb\r", true).readLine("> "));
        echo.reset();
        GogoCommand.LineEditor piped = editor("lb\r\ncompute:hosts\nlast", false);
        assertEquals("lb", piped.readLine("> "));
        assertEquals("compute:hosts", piped.readLine("> "));
        assertEquals("last", piped.readLine("> "));
        assertNull(piped.readLine("> "));
        assertEquals("", echo.toString(StandardCharsets.UTF_8), "nothing echoed without a terminal");
    }
}
