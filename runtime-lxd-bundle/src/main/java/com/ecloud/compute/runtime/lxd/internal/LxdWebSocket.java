package com.ecloud.compute.runtime.lxd.internal;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;

/**
 * A WebSocket client connection (RFC 6455) to LXD, over whatever {@link Link} carries it (its unix socket, or TLS
 * to a remote daemon). HttpClient 5 has no WebSocket client, and LXD's use is plain: binary frames for data, an
 * empty text frame for the end of a stream, JSON text frames for control and events, pings to keep alive.
 *
 * <p>One thread reads ({@link #read}); any thread may send (sends are serialised). Pings are answered inside
 * {@link #read}.
 */
final class LxdWebSocket implements AutoCloseable {

    /** A byte stream to LXD: the socket under one WebSocket. */
    interface Link extends AutoCloseable {
        InputStream in();

        OutputStream out();

        @Override
        void close();
    }

    /** A whole message: {@code text} for text frames, else binary. */
    record Message(boolean text, byte[] data) {
        String asText() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static final int OP_CONTINUATION = 0;
    private static final int OP_TEXT = 1;
    private static final int OP_BINARY = 2;
    private static final int OP_CLOSE = 8;
    private static final int OP_PING = 9;
    private static final int OP_PONG = 10;
    /** Larger messages from LXD would be a fault: cap what one read may buffer. */
    private static final long MAX_MESSAGE = 64L * 1024 * 1024;

    private final Link link;
    private final InputStream in;
    private final OutputStream out;
    private final SecureRandom random;
    private final Object sendLock = new Object();
    private boolean closeSent;

    private LxdWebSocket(Link link, SecureRandom random) {
        this.link = link;
        this.in = link.in();
        this.out = link.out();
        this.random = random;
    }

    /** Opens the WebSocket at {@code path} on a fresh link; the link is closed when the handshake fails. */
    static LxdWebSocket open(Link link, String hostHeader, String path, SecureRandom random) throws IOException {
        try {
            byte[] nonce = new byte[16];
            random.nextBytes(nonce);
            String key = Base64.getEncoder().encodeToString(nonce);
            String request = "GET " + path + " HTTP/1.1\r\n"
                    + "Host: " + hostHeader + "\r\n"
                    + "Upgrade: websocket\r\n"
                    + "Connection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + key + "\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n";
            link.out().write(request.getBytes(StandardCharsets.US_ASCII));
            link.out().flush();
            String head = readHead(link.in());
            String statusLine = head.lines().findFirst().orElse("");
            if (!statusLine.matches("HTTP/1\\.[01] 101.*")) {
                throw new IOException("LXD refused the WebSocket " + path + ": " + statusLine);
            }
            String expected = accept(key);
            boolean accepted = head.lines().anyMatch(line -> {
                int colon = line.indexOf(':');
                return colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("sec-websocket-accept")
                        && line.substring(colon + 1).trim().equals(expected);
            });
            if (!accepted) throw new IOException("LXD's WebSocket answer to " + path + " has a wrong accept key");
            return new LxdWebSocket(link, random);
        } catch (IOException | RuntimeException e) {
            link.close();
            throw e;
        }
    }

    static String accept(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1")
                    .digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is missing from the JDK", e);
        }
    }

    /** The response head up to the blank line, read byte by byte so that no frame byte is consumed. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int lastFour = 0;
        while (lastFour != 0x0D0A0D0A) { // CR LF CR LF
            int b = in.read();
            if (b < 0) throw new EOFException("LXD closed the connection during the WebSocket handshake");
            head.write(b);
            lastFour = (lastFour << 8) | b;
            if (head.size() > 16 * 1024) throw new IOException("LXD's WebSocket answer head is too long");
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    /**
     * The next whole message; null when the peer closed (a close frame, or the end of the connection: LXD ends
     * its data streams by closing the socket without a close frame).
     */
    Message read() throws IOException {
        ByteArrayOutputStream message = null;
        int messageOpcode = -1;
        while (true) {
            int b0 = in.read();
            if (b0 < 0) return null;
            int b1 = readByte();
            boolean fin = (b0 & 0x80) != 0;
            int opcode = b0 & 0x0F;
            long length = b1 & 0x7F;
            if (length == 126) {
                length = (readByte() << 8) | readByte();
            } else if (length == 127) {
                length = 0;
                for (int i = 0; i < 8; i++) length = (length << 8) | readByte();
            }
            if (length < 0 || length > MAX_MESSAGE) throw new IOException("WebSocket frame of " + length + " bytes");
            byte[] mask = null;
            if ((b1 & 0x80) != 0) {
                mask = in.readNBytes(4);
                if (mask.length < 4) throw new EOFException("WebSocket frame cut short");
            }
            byte[] payload = in.readNBytes((int) length);
            if (payload.length < length) throw new EOFException("WebSocket frame cut short");
            if (mask != null) {
                for (int i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
            }
            switch (opcode) {
                case OP_PING -> send(OP_PONG, payload, 0, payload.length);
                case OP_PONG -> {
                    // unsolicited pongs are allowed and mean nothing
                }
                case OP_CLOSE -> {
                    sendClose();
                    return null;
                }
                case OP_TEXT, OP_BINARY, OP_CONTINUATION -> {
                    if (opcode != OP_CONTINUATION) {
                        messageOpcode = opcode;
                        message = new ByteArrayOutputStream(payload.length);
                    } else if (message == null) {
                        throw new IOException("WebSocket continuation without a message");
                    }
                    message.write(payload);
                    if (message.size() > MAX_MESSAGE) throw new IOException("WebSocket message too long");
                    if (fin) return new Message(messageOpcode == OP_TEXT, message.toByteArray());
                }
                default -> throw new IOException("unknown WebSocket opcode " + opcode);
            }
        }
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) throw new EOFException("WebSocket frame cut short");
        return b;
    }

    void sendBinary(byte[] data, int offset, int length) throws IOException {
        send(OP_BINARY, data, offset, length);
    }

    void sendText(String text) throws IOException {
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        send(OP_TEXT, data, 0, data.length);
    }

    /** Sends a close frame (once); for LXD's stdin this is the end of input. */
    void sendClose() {
        synchronized (sendLock) {
            if (closeSent) return;
            closeSent = true;
            try {
                byte[] normal = {0x03, (byte) 0xE8}; // 1000: normal closure
                writeFrame(OP_CLOSE, normal, 0, normal.length);
            } catch (IOException e) {
                // the peer is gone already: nothing left to tell it
            }
        }
    }

    private void send(int opcode, byte[] data, int offset, int length) throws IOException {
        synchronized (sendLock) {
            if (closeSent) throw new IOException("the WebSocket is closed");
            writeFrame(opcode, data, offset, length);
        }
    }

    /** One frame, masked as a client's must be. */
    private void writeFrame(int opcode, byte[] data, int offset, int length) throws IOException {
        byte[] head = new byte[14];
        int n = 0;
        head[n++] = (byte) (0x80 | opcode);
        if (length < 126) {
            head[n++] = (byte) (0x80 | length);
        } else if (length < 65536) {
            head[n++] = (byte) (0x80 | 126);
            head[n++] = (byte) (length >>> 8);
            head[n++] = (byte) length;
        } else {
            head[n++] = (byte) (0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) head[n++] = (byte) ((long) length >>> shift);
        }
        byte[] mask = new byte[4];
        random.nextBytes(mask);
        System.arraycopy(mask, 0, head, n, 4);
        n += 4;
        byte[] masked = new byte[n + length];
        System.arraycopy(head, 0, masked, 0, n);
        for (int i = 0; i < length; i++) masked[n + i] = (byte) (data[offset + i] ^ mask[i & 3]);
        out.write(masked);
        out.flush();
    }

    /** Closes the connection (after a close frame, when none was sent yet). */
    @Override
    public void close() {
        sendClose();
        link.close();
    }
}
