package com.ecloud.compute.bench;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** A ustar archive in memory, entries owned by root: what the platform PUTs into a container. */
final class Tar {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final long mtime = System.currentTimeMillis() / 1000;

    void directory(String name, int mode) {
        header(name, mode, 0, '5');
    }

    void file(String name, byte[] content, int mode) {
        header(name, mode, content.length, '0');
        out.write(content, 0, content.length);
        out.write(new byte[(512 - content.length % 512) % 512], 0, (512 - content.length % 512) % 512);
    }

    byte[] finish() {
        out.write(new byte[1024], 0, 1024);
        return out.toByteArray();
    }

    private void header(String name, int mode, long size, char type) {
        byte[] h = new byte[512];
        put(h, 0, 100, name);
        octal(h, 100, 8, mode);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtime);
        for (int i = 148; i < 156; i++) h[i] = ' ';
        h[156] = (byte) type;
        put(h, 257, 6, "ustar");
        put(h, 263, 2, "00");
        put(h, 265, 32, "root");
        put(h, 297, 32, "root");
        long sum = 0;
        for (byte b : h) sum += b & 0xff;
        byte[] checksum = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(checksum, 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
        out.write(h, 0, 512);
    }

    private static void put(byte[] h, int at, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > len) throw new IllegalArgumentException("too long for a tar header: " + s);
        System.arraycopy(b, 0, h, at, b.length);
    }

    /** An octal field of len-1 digits and a NUL. */
    private static void octal(byte[] h, int at, int len, long v) {
        String s = String.format("%0" + (len - 1) + "o", v);
        put(h, at, len - 1, s);
        h[at + len - 1] = 0;
    }
}
