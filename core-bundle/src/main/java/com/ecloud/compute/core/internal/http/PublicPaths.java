package com.ecloud.compute.core.internal.http;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import jakarta.ws.rs.core.PathSegment;

/**
 * The only REST paths served without a token: the health probes. Everything else needs one, so a resource added
 * later is protected without anyone remembering to protect it.
 */
final class PublicPaths {

    private static final Set<String> PUBLIC = Set.of("livez", "readyz");

    private PublicPaths() {
    }

    /**
     * @param segments the request path as Jersey splits it, still percent-encoded (so that {@code /live%7A} is not
     *                 public: Jersey does not route it to {@code /livez} either), without matrix parameters
     */
    static boolean isPublic(List<PathSegment> segments) {
        String path = segments.stream().map(PathSegment::getPath).filter(s -> !s.isEmpty())
                .collect(Collectors.joining("/"));
        return PUBLIC.contains(path);
    }
}
