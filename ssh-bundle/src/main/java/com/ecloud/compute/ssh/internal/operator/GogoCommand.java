package com.ecloud.compute.ssh.internal.operator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.channel.ChannelSession;
import com.ecloud.compute.ssh.internal.common.ChannelStreams;

/**
 * One operator session: a Gogo {@link CommandSession} on the SSH channel. With a command (one-shot), runs it and
 * exits 0, or 1 with the error on standard error. Without (a shell), reads lines with a small editor (backspace,
 * Ctrl-U, Ctrl-C, Ctrl-D, history with the arrow keys) and runs each; {@code exit} or Ctrl-D ends it.
 */
final class GogoCommand extends ChannelStreams {

    static final String PROMPT = "ecloud> ";

    private final CommandProcessor processor;
    private final String oneShot;
    private Thread thread;

    GogoCommand(CommandProcessor processor, String oneShot) {
        this.processor = processor;
        this.oneShot = oneShot;
    }

    @Override
    public void start(ChannelSession channel, Environment env) {
        boolean terminal = env.getEnv().containsKey(Environment.ENV_TERM);
        thread = new Thread(() -> run(terminal), "ecloud-operator-shell");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void destroy(ChannelSession channel) {
        if (thread != null) thread.interrupt();
    }

    private void run(boolean terminal) {
        // a terminal wants \r\n; a one-shot command's output goes to a pipe as it is
        PrintStream console = new PrintStream(terminal ? new CrLf(out) : out, true, StandardCharsets.UTF_8);
        PrintStream errors = new PrintStream(terminal ? new CrLf(err) : err, true, StandardCharsets.UTF_8);
        int status = 0;
        try (CommandSession session = processor.createSession(InputStream.nullInputStream(), console, errors)) {
            // start, stop and update are both Felix's (bundles) and compute's (containers): unqualified, they
            // are Felix's, as operators know them; the compute ones are always written compute:start ...
            session.put("SCOPE", "felix:gogo:*");
            if (oneShot != null) {
                status = execute(session, oneShot, console, errors) ? 0 : 1;
            } else {
                console.print("ecloud compute operators' shell: Gogo commands (compute:*; Felix's lb, start, stop, install, update); exit to leave\n");
                LineEditor editor = new LineEditor(in, out, terminal);
                String line;
                while ((line = editor.readLine(PROMPT)) != null) {
                    if (line.strip().equals("exit") || line.strip().equals("logout")) break;
                    if (!line.isBlank()) execute(session, line, console, errors);
                }
            }
        } catch (IOException | RuntimeException e) {
            errors.println("error: " + e.getMessage());
            status = 1;
        } finally {
            console.flush();
            errors.flush();
            exitCallback.onExit(status);
        }
    }

    /** Runs one command line; prints its value or its error. */
    private static boolean execute(CommandSession session, String line, PrintStream console, PrintStream errors) {
        try {
            Object result = session.execute(line);
            if (result != null) console.println(session.format(result, Converter.INSPECT));
            return true;
        } catch (Exception e) {
            errors.println("error: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            return false;
        }
    }

    /** Turns each \n into \r\n, for a terminal in raw mode. */
    private static final class CrLf extends OutputStream {
        private final OutputStream target;
        private int previous;

        CrLf(OutputStream target) {
            this.target = target;
        }

        @Override
        public void write(int b) throws IOException {
            if (b == '\n' && previous != '\r') target.write('\r');
            target.write(b);
            previous = b;
        }

        @Override
        public void flush() throws IOException {
            target.flush();
        }
    }

    /** Reads lines from the client, echoing and editing them when it is a terminal. */
    static final class LineEditor {
        private final InputStream in;
        private final OutputStream echo;
        private final boolean terminal;
        private final List<String> history = new ArrayList<>();

        LineEditor(InputStream in, OutputStream echo, boolean terminal) {
            this.in = in;
            this.echo = echo;
            this.terminal = terminal;
        }

        /** The next line, without its end; null at end of input (or Ctrl-D on an empty line). */
        String readLine(String prompt) throws IOException {
            if (terminal) write(prompt);
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int recall = history.size();
            while (true) {
                int b = in.read();
                if (b < 0) return line.size() > 0 ? line.toString(StandardCharsets.UTF_8) : null;
                if (!terminal) {
                    if (b == '\n') return line.toString(StandardCharsets.UTF_8).replaceAll("\r$", "");
                    line.write(b);
                    continue;
                }
                switch (b) {
                    case '\r', '\n' -> {
                        write("\r\n");
                        String text = line.toString(StandardCharsets.UTF_8);
                        if (!text.isBlank()) history.add(text);
                        return text;
                    }
                    case 4 -> { // Ctrl-D
                        if (line.size() == 0) {
                            write("\r\n");
                            return null;
                        }
                    }
                    case 3 -> { // Ctrl-C: drop the line
                        write("^C\r\n" + prompt);
                        line.reset();
                    }
                    case 21 -> { // Ctrl-U: erase the line
                        erase(line.toString(StandardCharsets.UTF_8).length());
                        line.reset();
                    }
                    case 127, 8 -> { // backspace
                        String text = line.toString(StandardCharsets.UTF_8);
                        if (!text.isEmpty()) {
                            String shorter = text.substring(0, text.offsetByCodePoints(text.length(), -1));
                            line.reset();
                            line.writeBytes(shorter.getBytes(StandardCharsets.UTF_8));
                            erase(1);
                        }
                    }
                    case 27 -> { // an escape sequence: the arrows up and down walk the history, others are ignored
                        int next = in.read();
                        int key = next == '[' || next == 'O' ? in.read() : -1;
                        if ((key == 'A' && recall > 0) || (key == 'B' && recall < history.size())) {
                            recall += key == 'A' ? -1 : 1;
                            erase(line.toString(StandardCharsets.UTF_8).length());
                            line.reset();
                            String text = recall < history.size() ? history.get(recall) : "";
                            line.writeBytes(text.getBytes(StandardCharsets.UTF_8));
                            write(text);
                        }
                    }
                    default -> {
                        if (b >= 32 || b == '\t') {
                            line.write(b);
                            echo.write(b);
                            echo.flush();
                        }
                    }
                }
            }
        }

        private void erase(int characters) throws IOException {
            write("\b \b".repeat(characters));
        }

        private void write(String text) throws IOException {
            echo.write(text.getBytes(StandardCharsets.UTF_8));
            echo.flush();
        }
    }
}
