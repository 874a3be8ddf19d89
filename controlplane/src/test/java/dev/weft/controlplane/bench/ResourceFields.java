package dev.weft.controlplane.bench;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Partial parsers of the xDS resources a simulated sidecar must read to subscribe as Envoy does
 * (the benchmark's light decode, {@code -Dweft.bench.decode=light}): a {@link CodedInputStream}
 * over an encoded resource that reads the few fields named below and skips every other field
 * without building it. Each returns what full parsing with the generated classes returns for the
 * same bytes ({@code ResourceFieldsTest} holds them equal, the field numbers are the generated
 * classes' own constants): for a message field that occurs twice, the later occurrence's fields
 * win, and a {@code oneof} member read clears its siblings, as protobuf's parsers do.
 *
 * <p>Every method reads {@code len} bytes of {@code buf} from {@code off}; the caller owns the
 * buffer and nothing here keeps it.
 */
final class ResourceFields {
  private ResourceFields() {}

  private static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int VARINT = WireFormat.WIRETYPE_VARINT;

  private static final String HCM = HttpConnectionManager.getDescriptor().getFullName();

  /** A tag: field number and wire type, as the encoding puts them (protobuf's encoding guide). */
  static int tag(int field, int wireType) {
    return field << 3 | wireType;
  }

  /**
   * The name of the endpoints a cluster asks EDS for, or {@code ""} when it is not an EDS cluster:
   * {@code eds_cluster_config.service_name}, or the cluster's name when that is empty (Envoy's
   * rule, cluster.proto). Reads {@code name}, {@code type} (a {@code cluster_type} clears it, the
   * two are one {@code oneof}) and {@code eds_cluster_config}.
   */
  static String edsServiceName(byte[] buf, int off, int len) throws InvalidProtocolBufferException {
    CodedInputStream in = CodedInputStream.newInstance(buf, off, len);
    String name = "";
    int type = Cluster.DiscoveryType.STATIC_VALUE;
    String serviceName = "";
    try {
      while (true) {
        int tag = in.readTag();
        if (tag == 0) {
          break;
        } else if (tag == tag(Cluster.NAME_FIELD_NUMBER, LEN)) {
          name = in.readStringRequireUtf8();
        } else if (tag == tag(Cluster.TYPE_FIELD_NUMBER, VARINT)) {
          type = in.readEnum();
        } else if (tag == tag(Cluster.CLUSTER_TYPE_FIELD_NUMBER, LEN)) {
          type = Cluster.DiscoveryType.STATIC_VALUE; // the oneof now holds cluster_type
          in.skipField(tag);
        } else if (tag == tag(Cluster.EDS_CLUSTER_CONFIG_FIELD_NUMBER, LEN)) {
          int limit = in.pushLimit(in.readRawVarint32());
          while (true) {
            int t = in.readTag();
            if (t == 0) {
              break;
            } else if (t == tag(Cluster.EdsClusterConfig.SERVICE_NAME_FIELD_NUMBER, LEN)) {
              serviceName = in.readStringRequireUtf8();
            } else if (!in.skipField(t)) {
              break;
            }
          }
          in.checkLastTagWas(0);
          in.popLimit(limit);
        } else if (!in.skipField(tag)) {
          break;
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (java.io.IOException e) {
      throw new InvalidProtocolBufferException(e);
    }
    if (type != Cluster.DiscoveryType.EDS_VALUE) {
      return "";
    }
    return serviceName.isEmpty() ? name : serviceName;
  }

  /** What a simulated sidecar reads from a {@link ClusterLoadAssignment}. */
  record Endpoints(String clusterName, int count) {}

  /**
   * A load assignment's {@code cluster_name} and how many {@code lb_endpoints} its {@code
   * endpoints} (localities) hold in all.
   */
  static Endpoints endpoints(byte[] buf, int off, int len) throws InvalidProtocolBufferException {
    CodedInputStream in = CodedInputStream.newInstance(buf, off, len);
    String cluster = "";
    int count = 0;
    try {
      while (true) {
        int tag = in.readTag();
        if (tag == 0) {
          break;
        } else if (tag == tag(ClusterLoadAssignment.CLUSTER_NAME_FIELD_NUMBER, LEN)) {
          cluster = in.readStringRequireUtf8();
        } else if (tag == tag(ClusterLoadAssignment.ENDPOINTS_FIELD_NUMBER, LEN)) {
          int limit = in.pushLimit(in.readRawVarint32());
          while (true) {
            int t = in.readTag();
            if (t == 0) {
              break;
            }
            if (t == tag(LocalityLbEndpoints.LB_ENDPOINTS_FIELD_NUMBER, LEN)) {
              count++;
            }
            if (!in.skipField(t)) {
              break;
            }
          }
          in.checkLastTagWas(0);
          in.popLimit(limit);
        } else if (!in.skipField(tag)) {
          break;
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (java.io.IOException e) {
      throw new InvalidProtocolBufferException(e);
    }
    return new Endpoints(cluster, count);
  }

  /**
   * The route configurations a listener's HTTP connection managers name over RDS, in order, one per
   * filter that has one (duplicates kept): for each of {@code filter_chains}, each filter whose
   * {@code typed_config} is an {@link HttpConnectionManager} whose {@code route_specifier} is
   * {@code rds}, that {@code rds.route_config_name}.
   */
  static List<String> rdsRouteNames(byte[] buf, int off, int len)
      throws InvalidProtocolBufferException {
    List<String> out = new ArrayList<>();
    CodedInputStream in = CodedInputStream.newInstance(buf, off, len);
    try {
      while (true) {
        int tag = in.readTag();
        if (tag == 0) {
          break;
        } else if (tag == tag(Listener.FILTER_CHAINS_FIELD_NUMBER, LEN)) {
          int limit = in.pushLimit(in.readRawVarint32());
          while (true) {
            int t = in.readTag();
            if (t == 0) {
              break;
            } else if (t == tag(FilterChain.FILTERS_FIELD_NUMBER, LEN)) {
              int filterLen = in.readRawVarint32();
              int start = off + in.getTotalBytesRead();
              String rds = filterRds(buf, start, filterLen);
              if (rds != null) {
                out.add(rds);
              }
              in.skipRawBytes(filterLen);
            } else if (!in.skipField(t)) {
              break;
            }
          }
          in.checkLastTagWas(0);
          in.popLimit(limit);
        } else if (!in.skipField(tag)) {
          break;
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (java.io.IOException e) {
      throw new InvalidProtocolBufferException(e);
    }
    return List.copyOf(out);
  }

  /**
   * A filter's RDS route configuration name, or null when its {@code typed_config} is not an HTTP
   * connection manager using RDS. {@code typed_config} and {@code config_discovery} are one {@code
   * oneof}; two occurrences of {@code typed_config} merge (the later type URL and value win).
   */
  private static String filterRds(byte[] buf, int off, int len) throws java.io.IOException {
    CodedInputStream in = CodedInputStream.newInstance(buf, off, len);
    boolean typed = false;
    String typeUrl = "";
    int valueOff = 0;
    int valueLen = 0;
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        break;
      } else if (tag == tag(Filter.TYPED_CONFIG_FIELD_NUMBER, LEN)) {
        if (!typed) {
          typed = true;
          typeUrl = "";
          valueOff = 0;
          valueLen = 0;
        }
        int limit = in.pushLimit(in.readRawVarint32());
        while (true) {
          int t = in.readTag();
          if (t == 0) {
            break;
          } else if (t == tag(com.google.protobuf.Any.TYPE_URL_FIELD_NUMBER, LEN)) {
            typeUrl = in.readStringRequireUtf8();
          } else if (t == tag(com.google.protobuf.Any.VALUE_FIELD_NUMBER, LEN)) {
            valueLen = in.readRawVarint32();
            valueOff = off + in.getTotalBytesRead();
            in.skipRawBytes(valueLen);
          } else if (!in.skipField(t)) {
            break;
          }
        }
        in.checkLastTagWas(0);
        in.popLimit(limit);
      } else if (tag == tag(Filter.CONFIG_DISCOVERY_FIELD_NUMBER, LEN)) {
        typed = false; // the oneof now holds config_discovery
        in.skipField(tag);
      } else if (!in.skipField(tag)) {
        break;
      }
    }
    if (!typed || !HCM.equals(typeName(typeUrl))) {
      return null;
    }
    return hcmRds(buf, valueOff, valueLen);
  }

  /**
   * An HTTP connection manager's {@code rds.route_config_name}, or null when its {@code
   * route_specifier} is not {@code rds} ({@code route_config} or {@code scoped_routes} clear it).
   */
  private static String hcmRds(byte[] buf, int off, int len) throws java.io.IOException {
    CodedInputStream in = CodedInputStream.newInstance(buf, off, len);
    boolean rds = false;
    String name = "";
    while (true) {
      int tag = in.readTag();
      if (tag == 0) {
        break;
      } else if (tag == tag(HttpConnectionManager.RDS_FIELD_NUMBER, LEN)) {
        if (!rds) {
          rds = true;
          name = "";
        }
        int limit = in.pushLimit(in.readRawVarint32());
        while (true) {
          int t = in.readTag();
          if (t == 0) {
            break;
          } else if (t == tag(Rds.ROUTE_CONFIG_NAME_FIELD_NUMBER, LEN)) {
            name = in.readStringRequireUtf8();
          } else if (!in.skipField(t)) {
            break;
          }
        }
        in.checkLastTagWas(0);
        in.popLimit(limit);
      } else if (tag == tag(HttpConnectionManager.ROUTE_CONFIG_FIELD_NUMBER, LEN)
          || tag == tag(HttpConnectionManager.SCOPED_ROUTES_FIELD_NUMBER, LEN)) {
        rds = false; // the oneof now holds route_config or scoped_routes
        in.skipField(tag);
      } else if (!in.skipField(tag)) {
        break;
      }
    }
    return rds ? name : null;
  }

  /**
   * The type name of an {@code Any}'s type URL: what follows its last '/', or "" without one (as
   * protobuf's {@code Any.is}).
   */
  static String typeName(String typeUrl) {
    int slash = typeUrl.lastIndexOf('/');
    return slash < 0 ? "" : typeUrl.substring(slash + 1);
  }

  /**
   * Whether {@code len} bytes of {@code buf} at {@code off}, a type URL in UTF-8, name the type
   * whose full name is {@code fullName} (UTF-8), as {@code Any.is} does (the part after the last
   * '/'), without building a string.
   */
  static boolean typeUrlNames(byte[] buf, int off, int len, byte[] fullName) {
    for (int i = off + len - 1; i >= off; i--) {
      if (buf[i] == '/') {
        return java.util.Arrays.equals(buf, i + 1, off + len, fullName, 0, fullName.length);
      }
    }
    return false;
  }

  /** {@code type}'s full name in UTF-8, for {@link #typeUrlNames}. */
  static byte[] fullName(Descriptor type) {
    return type.getFullName().getBytes(StandardCharsets.UTF_8);
  }
}
