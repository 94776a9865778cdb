package dev.pgevents.test;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.pgevents.Event;
import dev.pgevents.EventSubscriber;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;

/**
 * The subscribers the kit's tests watch: one that takes a while, one that always fails,
 * and one that only a backfill of {@code note} calls.
 */
class KitSubscribers {

	final List<UUID> welcomed = new CopyOnWriteArrayList<>();

	@EventSubscriber("member.created")
	void welcome(Event event) throws InterruptedException {
		Thread.sleep(200); // long enough that a test that does not wait for it fails
		this.welcomed.add(UUID.fromString(event.target().id()));
	}

	@EventSubscriber(value = "note.snapshot", name = "noteSnapshots")
	void noteSnapshots(Event event) {
	}

	@EventSubscriber(value = "member_profile.created", name = "profiles")
	void profiles(Event event) {
		throw new IllegalStateException("the profile service is down");
	}

	/**
	 * An application with these subscribers.
	 */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		KitSubscribers subscribers() {
			return new KitSubscribers();
		}

	}

}
