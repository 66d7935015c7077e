package com.ecloud.compute.gateway.internal.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A raw HTTP/1.x client over a plain socket: sends bytes as given, parses responses strictly. */
final class RawClient implements AutoCloseable {
    final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawClient(int port) throws IOException {
        this(new Socket("127.0.0.1", port));
    }

    /** Over an already connected socket (e.g. an SSLSocket). */
    RawClient(Socket connected) throws IOException {
        socket = connected;
        socket.setSoTimeout(10_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    RawClient send(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return this;
    }

    RawClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    OutputStream output() {
        return out;
    }

    InputStream input() {
        return in;
    }

    record Response(int status, Map<String, List<String>> headers, byte[] body) {
        String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null ? null : values.get(0);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    Response read() throws IOException {
        return read(false);
    }

    /** Reads one response; headOnly: a response to HEAD (no body whatever the headers say). */
    Response read(boolean headOnly) throws IOException {
        String statusLine = line();
        if (statusLine == null) throw new IOException("connection closed before a response");
        String[] parts = statusLine.split(" ", 3);
        int status = Integer.parseInt(parts[1]);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String line;
        while (!(line = line()).isEmpty()) {
            int colon = line.indexOf(':');
            headers.computeIfAbsent(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).strip());
        }
        Response head = new Response(status, headers, new byte[0]);
        if (headOnly || status == 204 || status == 304 || (status >= 100 && status < 200)) return head;
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if ("chunked".equalsIgnoreCase(head.header("transfer-encoding"))) {
            while (true) {
                int size = Integer.parseInt(line().split(";")[0].strip(), 16);
                if (size == 0) {
                    while (!line().isEmpty()) { /* trailers */ }
                    break;
                }
                body.write(in.readNBytes(size));
                line();
            }
        } else if (head.header("content-length") != null) {
            int length = Integer.parseInt(head.header("content-length"));
            byte[] bytes = in.readNBytes(length);
            if (bytes.length < length) throw new IOException("body cut after " + bytes.length + " of " + length + " bytes");
            body.write(bytes);
        } else {
            body.write(in.readAllBytes());
        }
        return new Response(status, headers, body.toByteArray());
    }

    /** True when the peer closes (or resets) the connection within the socket timeout with no more data. */
    boolean closedByPeer() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                byte[] raw = bytes.toByteArray();
                int length = raw.length > 0 && raw[raw.length - 1] == '\r' ? raw.length - 1 : raw.length;
                return new String(raw, 0, length, StandardCharsets.ISO_8859_1);
            }
            bytes.write(b);
        }
        return bytes.size() == 0 ? null : bytes.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
