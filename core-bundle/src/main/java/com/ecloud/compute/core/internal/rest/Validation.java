package com.ecloud.compute.core.internal.rest;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;

import com.ecloud.compute.core.internal.http.ApiException;

/** Value rules of the Compute API. 400 for malformed values, 422 for well-formed values out of range. */
final class Validation {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,63}");
    private static final Pattern PATH_SEGMENT = Pattern.compile("[A-Za-z0-9._@+-]+");
    private static final List<String> RESERVED_PATHS = List.of("/proc", "/sys", "/dev");
    static final int MAX_MOUNT_PATHS = 16;

    private Validation() {
    }

    static String containerName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw ApiException.badRequest("name must be 1-63 characters of A-Z, a-z, 0-9, '.', '_' or '-'");
        }
        return name;
    }

    static int range(String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw ApiException.unprocessable(field + " must be between " + min + " and " + max);
        }
        return value;
    }

    /** Absolute, normalised paths without "." or ".." segments, not over the kernel's own file systems. */
    static List<String> mountPaths(List<String> paths) {
        if (paths.isEmpty()) throw ApiException.unprocessable("mount_paths needs at least one path");
        if (paths.size() > MAX_MOUNT_PATHS) {
            throw ApiException.unprocessable("mount_paths takes at most " + MAX_MOUNT_PATHS + " paths");
        }
        LinkedHashSet<String> unique = new LinkedHashSet<>();
        for (String p : paths) {
            if (!p.startsWith("/")) throw ApiException.badRequest("mount path must be absolute: " + p);
            if (p.length() > 255) throw ApiException.badRequest("mount path is longer than 255 characters");
            if (p.equals("/")) throw ApiException.unprocessable("the root directory cannot be a mount path");
            if (p.endsWith("/") || p.contains("//")) throw ApiException.badRequest("mount path must be normalised: " + p);
            for (String segment : p.substring(1).split("/")) {
                if (segment.equals(".") || segment.equals("..")) {
                    throw ApiException.badRequest("mount path must not contain '.' or '..': " + p);
                }
                if (!PATH_SEGMENT.matcher(segment).matches()) {
                    throw ApiException.badRequest("mount path has characters other than A-Z a-z 0-9 . _ @ + -: " + p);
                }
            }
            for (String reserved : RESERVED_PATHS) {
                if (p.equals(reserved) || p.startsWith(reserved + "/")) {
                    throw ApiException.unprocessable("mount path " + p + " is reserved by the system");
                }
            }
            if (!unique.add(p)) throw ApiException.unprocessable("mount path listed twice: " + p);
        }
        return new ArrayList<>(unique);
    }

    static int ingressPort(int port) {
        if (port != 80 && port != 443 && (port < 8000 || port > 8999)) {
            throw ApiException.unprocessable("port must be 80, 443 or 8000-8999");
        }
        return port;
    }

    static int targetPort(int port) {
        return range("target_port", port, 1, 65535);
    }
}
