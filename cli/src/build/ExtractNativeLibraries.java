import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Takes Netty's native libraries (netty-tcnative-boringssl-static's BoringSSL, one jar per
 * platform, netty-transport-native-epoll's and netty-transport-native-io_uring's) out of their
 * jars in a distribution's lib, once, at package time: each {@code META-INF/native/FILE} of a
 * {@code netty-*.jar} is written to {@code lib/native/FILE} and removed from the jar. Netty's
 * {@code NativeLibraryLoader.load} first asks {@code System.loadLibrary} for the name it wants
 * ({@code netty_tcnative_linux_x86_64}, {@code netty_transport_native_epoll_x86_64}, {@code
 * netty_transport_native_io_uring42_x86_64}: unshaded Netty adds no package prefix), whose mapped
 * file name ({@code libNAME.so}, {@code .jnilib}/{@code .dylib}, {@code .dll}) is the jar
 * entry's; only when that fails does it copy the jar's entry to a temporary file with a random name
 * and load that: about 3 MB written per proxy start, and the library's pages private to each
 * proxy. The launcher and {@code Distribution} start the distribution's JVMs with {@code
 * -Djava.library.path=lib/native}, so every proxy maps the same file. All platforms' files are
 * kept (their names differ); each JVM loads its own. grpc-netty-shaded's own libraries stay in its
 * jar (the control plane's). Run by the cli module's package phase: {@code java
 * ExtractNativeLibraries.java LIB}; idempotent.
 */
public final class ExtractNativeLibraries {
  private static final String NATIVE = "META-INF/native/";

  public static void main(String[] args) throws IOException {
    Path lib = Path.of(args[0]);
    Path out = lib.resolve("native");
    try (DirectoryStream<Path> jars = Files.newDirectoryStream(lib, "netty-*.jar")) {
      for (Path jar : jars) {
        if (hasNative(jar)) {
          Files.createDirectories(out);
          extract(jar, out);
        }
      }
    }
  }

  private static boolean isLibrary(ZipEntry e) {
    String n = e.getName();
    return !e.isDirectory() && n.startsWith(NATIVE) && n.indexOf('/', NATIVE.length()) < 0;
  }

  private static boolean hasNative(Path jar) throws IOException {
    try (ZipFile z = new ZipFile(jar.toFile())) {
      return z.stream().anyMatch(ExtractNativeLibraries::isLibrary);
    }
  }

  private static void extract(Path jar, Path out) throws IOException {
    Path tmp = jar.resolveSibling(jar.getFileName() + ".tmp");
    try (JarFile in = new JarFile(jar.toFile(), false);
        ZipOutputStream copy = new ZipOutputStream(Files.newOutputStream(tmp))) {
      Enumeration<? extends ZipEntry> entries = in.entries();
      while (entries.hasMoreElements()) {
        ZipEntry e = entries.nextElement();
        if (isLibrary(e)) {
          Path file = out.resolve(e.getName().substring(NATIVE.length()));
          Path part = file.resolveSibling(file.getFileName() + ".tmp");
          try (InputStream data = in.getInputStream(e)) {
            Files.copy(data, part, StandardCopyOption.REPLACE_EXISTING);
          }
          Files.move(
              part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
          System.out.println("weft: " + file.getFileName() + " out of " + jar.getFileName());
          continue;
        }
        ZipEntry entry = new ZipEntry(e.getName());
        entry.setTime(e.getTime());
        copy.putNextEntry(entry);
        try (InputStream data = in.getInputStream(e)) {
          data.transferTo(copy);
        }
        copy.closeEntry();
      }
    }
    Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
