package dev.pgevents.test.jpa;

import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import org.jspecify.annotations.Nullable;

/**
 * An order of the JPA application, inserted as soon as it is saved (its id is the
 * database's).
 */
@Entity
@Table(name = "orders")
class Order {

	@Id
	@GeneratedValue(strategy = GenerationType.IDENTITY)
	@Nullable Long id;

	String item;

	protected Order() {
		this.item = "";
	}

	Order(String item) {
		this.item = item;
	}

}
