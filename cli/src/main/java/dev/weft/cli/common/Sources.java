package dev.weft.cli.common;

import dev.weft.api.ParseResult;
import dev.weft.api.Resource;
import dev.weft.api.ResourceParser;
import dev.weft.api.ValidationError;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The files named by {@code -f}: a file, a directory (its {@code .yaml}, {@code .yml} and {@code
 * .json} files, sorted) or {@code -} (standard input), read as UTF-8 and parsed locally.
 */
public final class Sources {
  /**
   * One source text.
   *
   * @param name the name errors report ({@code -} for standard input)
   * @param text the YAML or JSON text
   */
  public record Source(String name, String text) {}

  /**
   * Every source's resources and errors.
   *
   * @param sources the sources read
   * @param resources the valid resources, in order
   * @param errors every error, in order
   */
  public record Parsed(
      List<Source> sources, List<Resource> resources, List<ValidationError> errors) {
    /** The sources as one multi-document YAML stream. */
    public String joined() {
      StringBuilder sb = new StringBuilder();
      for (Source s : sources) {
        if (!sb.isEmpty()) {
          sb.append("\n---\n");
        }
        sb.append(s.text());
      }
      return sb.append('\n').toString();
    }

    /** The source name to send with a request: the file, or the files comma separated. */
    public String sourceName() {
      return String.join(",", sources.stream().map(Source::name).toList());
    }
  }

  private Sources() {}

  public static List<Source> read(List<String> names, InputStream stdin) {
    if (names == null || names.isEmpty()) {
      throw new CliException("must specify one of -f and -k");
    }
    List<Source> sources = new ArrayList<>();
    boolean stdinRead = false;
    for (String name : names) {
      if (name.equals("-")) {
        if (stdinRead) {
          throw new CliException("standard input (-f -) can be read only once");
        }
        stdinRead = true;
        try {
          sources.add(new Source("-", new String(stdin.readAllBytes(), StandardCharsets.UTF_8)));
        } catch (IOException e) {
          throw new CliException("cannot read standard input: " + e.getMessage(), e);
        }
        continue;
      }
      Path path = Path.of(name);
      if (Files.isDirectory(path)) {
        try (Stream<Path> files = Files.list(path)) {
          for (Path f :
              files
                  .filter(Files::isRegularFile)
                  .filter(
                      f -> {
                        String n = f.getFileName().toString();
                        return n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json");
                      })
                  .sorted()
                  .toList()) {
            sources.add(new Source(f.toString(), readFile(f)));
          }
        } catch (IOException e) {
          throw new CliException("cannot read " + name + ": " + e.getMessage(), e);
        }
      } else if (Files.exists(path)) {
        sources.add(new Source(name, readFile(path)));
      } else {
        throw new CliException("the path \"" + name + "\" does not exist");
      }
    }
    return sources;
  }

  private static String readFile(Path f) {
    try {
      return Files.readString(f, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CliException("cannot read " + f + ": " + e.getMessage(), e);
    }
  }

  public static Parsed parse(List<Source> sources) {
    List<Resource> resources = new ArrayList<>();
    List<ValidationError> errors = new ArrayList<>();
    for (Source s : sources) {
      ParseResult r = ResourceParser.parse(s.name(), s.text());
      resources.addAll(r.resources());
      errors.addAll(r.errors());
    }
    return new Parsed(sources, resources, errors);
  }
}
