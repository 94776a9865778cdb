package dev.pgevents;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a test application's main class in a JVM of its own, with the tests' class path,
 * writing its output to a log file under {@code target/}: for the tests that kill,
 * freeze, stop or wait for a whole process.
 */
final class ChildJvm {

	private ChildJvm() {
	}

	/**
	 * Start a JVM.
	 * @param log the file its output goes to (its directory is created)
	 * @param options JVM options ({@code -D...}, {@code -Xmx...})
	 * @param main the main class
	 * @param args the main method's arguments
	 * @return the process
	 * @throws IOException when it cannot be started
	 */
	static Process start(Path log, List<String> options, Class<?> main, String... args) throws IOException {
		Files.createDirectories(log.toAbsolutePath().getParent());
		List<String> command = new ArrayList<>(List.of(javaExecutable(), "-cp", System.getProperty("java.class.path"),
				"-Xmx256m", "-XX:TieredStopAtLevel=1"));
		command.addAll(options);
		command.add(main.getName());
		command.addAll(List.of(args));
		return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
	}

	/**
	 * Send a signal to a process ({@code STOP} freezes it, {@code CONT} wakes it).
	 * @param signal the signal's name
	 * @param pid the process
	 * @throws IOException when {@code kill} cannot be run
	 * @throws InterruptedException when interrupted while it runs
	 */
	static void signal(String signal, long pid) throws IOException, InterruptedException {
		new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor();
	}

	private static String javaExecutable() {
		return ProcessHandle.current()
			.info()
			.command()
			.orElse(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
	}

}
