package com.ecloud.compute.core.internal.lifecycle;

import java.security.SecureRandom;
import java.util.regex.Pattern;

/** Container ids: 8 random characters of [a-z0-9], safe as a DNS label and an SSH user name. */
public final class ContainerIds {

    private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
    private static final Pattern VALID = Pattern.compile("[a-z0-9]{8}");
    private final SecureRandom random = new SecureRandom();

    public String next() {
        char[] id = new char[8];
        for (int i = 0; i < id.length; i++) id[i] = ALPHABET[random.nextInt(ALPHABET.length)];
        return new String(id);
    }

    /** Whether {@code text} could be a container id (cheap check before any lookup). */
    public static boolean isValid(String text) {
        return text != null && VALID.matcher(text).matches();
    }
}
