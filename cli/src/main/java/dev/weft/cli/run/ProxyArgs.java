package dev.weft.cli.run;

import dev.weft.cli.common.GoDurationSyntax;
import dev.weft.cli.common.StateDirOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The command lines of {@code weft run} and {@code weft proxy} read without picocli, for the
 * proxy's own JVM ({@link ProxyMain}): the same option names and values as {@link RunCommand}'s and
 * {@link ProxyCommand}'s annotations say ({@code ProxyArgsTest} checks every option against
 * picocli's model of them), set on those classes' fields. {@code --opt value} and {@code
 * --opt=value}; a repeated list option adds to the list; {@code --} ends the options.
 */
final class ProxyArgs {
  /** A command line that does not fit the command: the message says why. */
  static final class ParseException extends RuntimeException {
    ParseException(String message) {
      super(message);
    }
  }

  private final Map<String, Consumer<String>> options = new LinkedHashMap<>();
  private final List<String> positional = new ArrayList<>();
  private Path stateDir;

  private ProxyArgs() {}

  /** {@code weft run}'s options, set on a new {@link RunCommand}. */
  static RunCommand run(List<String> args) {
    RunCommand c = new RunCommand();
    ProxyArgs p = forRun(c).parse(args, true);
    c.state = StateDirOption.of(p.stateDir);
    if (c.name == null) {
      throw new ParseException("Missing required option: '--name=N'");
    }
    if (p.positional.isEmpty()) {
      throw new ParseException("Missing required parameter: 'COMMAND'");
    }
    c.command = List.copyOf(p.positional);
    return c;
  }

  /** {@code weft proxy}'s options, set on a new {@link ProxyCommand}. */
  static ProxyCommand proxy(List<String> args) {
    ProxyCommand c = new ProxyCommand();
    ProxyArgs p = forProxy(c).parse(args, false);
    c.state = StateDirOption.of(p.stateDir);
    if (p.positional.isEmpty()) {
      throw new ParseException("Missing required parameter: 'TYPE'");
    }
    if (p.positional.size() > 1) {
      throw new ParseException("Unmatched argument at index 1: '" + p.positional.get(1) + "'");
    }
    if (c.name == null) {
      throw new ParseException("Missing required option: '--name=N'");
    }
    c.type = p.positional.get(0);
    return c;
  }

  /** The option names this reads for {@code command} ({@code run} or {@code proxy}). */
  static Set<String> optionNames(String command) {
    return switch (command) {
      case "run" -> forRun(new RunCommand()).options.keySet();
      case "proxy" -> forProxy(new ProxyCommand()).options.keySet();
      default -> throw new IllegalArgumentException("not a proxy command: " + command);
    };
  }

  private static ProxyArgs forRun(RunCommand c) {
    ProxyArgs p = new ProxyArgs();
    return p.option(v -> p.stateDir = Path.of(v), "--state-dir")
        .option(v -> c.name = v, "--name")
        .option(v -> c.namespace = v, "-n", "--namespace")
        .option(v -> c.labels = add(c.labels, v), "--labels")
        .option(v -> c.annotations = add(c.annotations, v), "--annotation")
        .option(v -> c.ports = add(c.ports, v), "--port", "--ports")
        .option(v -> c.serviceAccount = v, "--service-account")
        .option(v -> c.readyTimeout = integer("--ready-timeout", v), "--ready-timeout")
        .option(v -> c.drainDuration = duration("--drain-duration", v), "--drain-duration");
  }

  private static ProxyArgs forProxy(ProxyCommand c) {
    ProxyArgs p = new ProxyArgs();
    return p.option(v -> p.stateDir = Path.of(v), "--state-dir")
        .option(v -> c.name = v, "--name")
        .option(v -> c.namespace = v, "-n", "--namespace")
        .option(v -> c.labels = add(c.labels, v), "--labels")
        .option(v -> c.annotations = add(c.annotations, v), "--annotation")
        .option(v -> c.ip = v, "--ip")
        .option(v -> c.appAddress = v, "--app-address")
        .option(v -> c.ports = add(c.ports, v), "--ports")
        .option(v -> c.serviceAccount = v, "--service-account")
        .option(v -> c.admin = v, "--admin")
        .option(v -> c.prometheus = v, "--prometheus")
        .option(v -> c.xds = v, "--xds")
        .option(v -> c.accessLog = Path.of(v), "--access-log")
        .option(v -> c.drainDuration = duration("--drain-duration", v), "--drain-duration");
  }

  private ProxyArgs option(Consumer<String> set, String... names) {
    for (String n : names) {
      options.put(n, set);
    }
    return this;
  }

  /**
   * Reads {@code args}; with {@code restIsPositional} the first positional argument and everything
   * after it are positional (a command line to run), else options may follow positionals.
   */
  private ProxyArgs parse(List<String> args, boolean restIsPositional) {
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--")) {
        positional.addAll(args.subList(i + 1, args.size()));
        return this;
      }
      if (a.startsWith("-") && a.length() > 1) {
        int eq = a.indexOf('=');
        String name = eq > 0 ? a.substring(0, eq) : a;
        Consumer<String> set = options.get(name);
        if (set == null) {
          throw new ParseException("Unknown option: '" + name + "'");
        }
        String value;
        if (eq > 0) {
          value = a.substring(eq + 1);
        } else if (i + 1 < args.size()) {
          value = args.get(++i);
        } else {
          throw new ParseException("Missing required parameter for option '" + name + "'");
        }
        set.accept(value);
        continue;
      }
      if (restIsPositional) {
        positional.addAll(args.subList(i, args.size()));
        return this;
      }
      positional.add(a);
    }
    return this;
  }

  private static List<String> add(List<String> list, String value) {
    List<String> out = new ArrayList<>(list);
    out.add(value);
    return out;
  }

  private static int integer(String option, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new ParseException(
          "Invalid value for option '" + option + "': '" + value + "' is not an int");
    }
  }

  private static java.time.Duration duration(String option, String value) {
    try {
      return GoDurationSyntax.parse(value);
    } catch (IllegalArgumentException e) {
      throw new ParseException("Invalid value for option '" + option + "': " + e.getMessage());
    }
  }
}
