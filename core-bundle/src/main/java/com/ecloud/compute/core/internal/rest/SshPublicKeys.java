package com.ecloud.compute.core.internal.rest;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Map;

import com.ecloud.compute.core.internal.http.ApiException;

/** Parses OpenSSH public key lines of the accepted types and computes their SHA256 fingerprints. */
final class SshPublicKeys {

    /** A checked key: its normalised line ("type base64 [comment]") and fingerprint. */
    record Parsed(String line, String fingerprint) {
    }

    private static final Map<String, String> CURVES = Map.of(
            "ecdsa-sha2-nistp256", "nistp256",
            "ecdsa-sha2-nistp384", "nistp384",
            "ecdsa-sha2-nistp521", "nistp521");
    private static final int MIN_RSA_BITS = 2048;

    private SshPublicKeys() {
    }

    static Parsed parse(String text) {
        String trimmed = text.strip();
        if (trimmed.isEmpty()) throw ApiException.badRequest("public_key is empty");
        if (trimmed.length() > 16384) throw ApiException.badRequest("public_key is too long");
        if (trimmed.contains("\n") || trimmed.contains("\r")) throw ApiException.badRequest("public_key must be one line");
        String[] parts = trimmed.split("\\s+", 3);
        String type = parts[0];
        if (!type.equals("ssh-rsa") && !type.equals("ssh-ed25519") && !CURVES.containsKey(type)) {
            throw ApiException.unprocessable("public_key type must be ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256, "
                    + "ecdsa-sha2-nistp384 or ecdsa-sha2-nistp521");
        }
        if (parts.length < 2) throw ApiException.badRequest("public_key needs the base64 key after its type");
        byte[] blob;
        try {
            blob = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("public_key is not valid base64");
        }
        checkBlob(type, blob);
        String comment = parts.length > 2 ? " " + parts[2] : "";
        return new Parsed(type + " " + parts[1] + comment, fingerprint(blob));
    }

    private static void checkBlob(String type, byte[] blob) {
        try {
            ByteBuffer in = ByteBuffer.wrap(blob);
            String inner = new String(field(in), StandardCharsets.US_ASCII);
            if (!inner.equals(type)) throw ApiException.badRequest("public_key says " + type + " but holds a " + inner + " key");
            switch (type) {
                case "ssh-ed25519":
                    if (field(in).length != 32) throw ApiException.badRequest("public_key is not a valid ed25519 key");
                    break;
                case "ssh-rsa":
                    field(in); // exponent
                    byte[] modulus = field(in);
                    int bits = new java.math.BigInteger(1, modulus).bitLength();
                    if (bits < MIN_RSA_BITS) throw ApiException.unprocessable("RSA keys need at least " + MIN_RSA_BITS + " bits");
                    break;
                default:
                    String curve = new String(field(in), StandardCharsets.US_ASCII);
                    if (!curve.equals(CURVES.get(type))) throw ApiException.badRequest("public_key curve does not match its type");
                    if (field(in).length == 0) throw ApiException.badRequest("public_key has no curve point");
            }
            if (in.hasRemaining()) throw ApiException.badRequest("public_key has trailing data");
        } catch (java.nio.BufferUnderflowException | IllegalStateException e) {
            throw ApiException.badRequest("public_key is truncated or malformed");
        }
    }

    private static byte[] field(ByteBuffer in) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) throw new IllegalStateException("bad length");
        byte[] out = new byte[length];
        in.get(out);
        return out;
    }

    static String fingerprint(byte[] blob) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(blob);
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
