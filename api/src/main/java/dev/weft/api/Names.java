package dev.weft.api;

import java.net.InetAddress;
import java.util.regex.Pattern;

/**
 * Kubernetes' and Istio's name rules (k8s.io/apimachinery validation, istio pkg/config/validation
 * agent). Each check returns an error message, or null when the value is valid.
 */
final class Names {
  private static final String LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final Pattern DNS1123_LABEL = Pattern.compile(LABEL);
  private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile(LABEL + "(\\." + LABEL + ")*");
  private static final Pattern DNS1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
  // Istio's host labels are case-insensitive; wildcards only as the whole first label or its
  // prefix.
  private static final Pattern HOST_LABEL =
      Pattern.compile("[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?");
  private static final Pattern WILDCARD_LABEL =
      Pattern.compile("\\*|(\\*|\\*-)?[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?");
  private static final Pattern QUALIFIED_NAME =
      Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  private static final Pattern LABEL_VALUE =
      Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
  private static final Pattern IANA_SVC_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?");

  private Names() {}

  static boolean isDns1123Label(String s) {
    return s.length() <= 63 && DNS1123_LABEL.matcher(s).matches();
  }

  static String dns1123Label(String s) {
    return isDns1123Label(s)
        ? null
        : "\""
            + s
            + "\" is not a valid DNS-1123 label (at most 63 lower-case letters, digits or '-',"
            + " starting and ending with a letter or digit)";
  }

  static String dns1123Subdomain(String s) {
    return s.length() <= 253 && DNS1123_SUBDOMAIN.matcher(s).matches()
        ? null
        : "\""
            + s
            + "\" is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.',"
            + " starting and ending with a letter or digit, at most 253 characters)";
  }

  static String dns1035Label(String s) {
    return s.length() <= 63 && DNS1035_LABEL.matcher(s).matches()
        ? null
        : "\""
            + s
            + "\" is not a valid DNS-1035 label (at most 63 lower-case letters, digits or '-',"
            + " starting with a letter and ending with a letter or digit)";
  }

  /** A label or annotation key: {@code [prefix/]name}. */
  static String qualifiedName(String s) {
    String name = s;
    int slash = s.indexOf('/');
    if (slash >= 0) {
      String prefix = s.substring(0, slash);
      name = s.substring(slash + 1);
      if (prefix.isEmpty() || dns1123Subdomain(prefix) != null) {
        return "key \"" + s + "\" has an invalid prefix (must be a DNS-1123 subdomain)";
      }
    }
    if (name.isEmpty() || name.length() > 63 || !QUALIFIED_NAME.matcher(name).matches()) {
      return "key \""
          + s
          + "\" is not a valid qualified name (at most 63 letters, digits, '-', '_' or '.',"
          + " starting and ending with a letter or digit, with an optional DNS prefix and '/')";
    }
    return null;
  }

  static String labelValue(String s) {
    return s.length() <= 63 && LABEL_VALUE.matcher(s).matches()
        ? null
        : "value \""
            + s
            + "\" is not a valid label value (at most 63 letters, digits, '-', '_' or '.',"
            + " starting and ending with a letter or digit)";
  }

  /** An IANA service name, as a named Service targetPort (at most 15 characters, one letter). */
  static boolean isIanaSvcName(String s) {
    return s.length() <= 15
        && IANA_SVC_NAME.matcher(s).matches()
        && !s.contains("--")
        && s.chars().anyMatch(Character::isLetter);
  }

  /** Istio's ValidateWildcardDomain: wildcards only in the first label. */
  static String wildcardDomain(String domain) {
    if (domain.isEmpty()) {
      return "empty domain name not allowed";
    }
    if (domain.length() > 255) {
      return "domain name \"" + domain + "\" too long (max 255)";
    }
    int dot = domain.indexOf('.');
    String first = dot < 0 ? domain : domain.substring(0, dot);
    if (first.length() > 63 || !WILDCARD_LABEL.matcher(first).matches()) {
      return "domain name \"" + domain + "\" invalid (label \"" + first + "\" invalid)";
    }
    return dot < 0 ? null : dnsLabels(domain, domain.substring(dot + 1));
  }

  /** Istio's ValidateFQDN / ValidateDNS1123Labels: no wildcards. */
  static String fqdn(String domain) {
    if (domain.isEmpty()) {
      return "empty domain name not allowed";
    }
    if (domain.length() > 255) {
      return "domain name \"" + domain + "\" too long (max 255)";
    }
    return dnsLabels(domain, domain);
  }

  private static String dnsLabels(String domain, String rest) {
    String[] parts = rest.split("\\.", -1);
    String tld = parts[parts.length - 1];
    if (!tld.isEmpty() && tld.chars().allMatch(Character::isDigit)) {
      return "domain name \""
          + domain
          + "\" invalid (top level domain \""
          + tld
          + "\" cannot be all-numeric)";
    }
    for (int i = 0; i < parts.length; i++) {
      String label = parts[i];
      if (i == parts.length - 1 && label.isEmpty() && parts.length > 1) {
        return null; // a trailing dot, as in "istio.io."
      }
      if (label.length() > 63 || !HOST_LABEL.matcher(label).matches()) {
        return "domain name \"" + domain + "\" invalid (label \"" + label + "\" invalid)";
      }
    }
    return null;
  }

  /** Whether {@code s} is an IPv4 or IPv6 literal (no name lookups). */
  static boolean isIp(String s) {
    if (s.isEmpty() || !(s.indexOf(':') >= 0 || Character.isDigit(s.charAt(0)))) {
      return false;
    }
    try {
      InetAddress.ofLiteral(s);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Whether {@code s} is an IP literal or a CIDR block ({@code 10.0.0.0/8}). */
  static boolean isIpOrCidr(String s) {
    int slash = s.indexOf('/');
    if (slash < 0) {
      return isIp(s);
    }
    String ip = s.substring(0, slash);
    if (!isIp(ip)) {
      return false;
    }
    String bits = s.substring(slash + 1);
    if (bits.isEmpty() || bits.length() > 3 || !bits.chars().allMatch(Character::isDigit)) {
      return false;
    }
    int max = ip.indexOf(':') >= 0 ? 128 : 32;
    return Integer.parseInt(bits) <= max;
  }
}
