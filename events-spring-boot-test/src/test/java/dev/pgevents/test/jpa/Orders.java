package dev.pgevents.test.jpa;

import org.springframework.data.jpa.repository.JpaRepository;

/**
 * The JPA application's repository of orders.
 */
interface Orders extends JpaRepository<Order, Long> {

}
