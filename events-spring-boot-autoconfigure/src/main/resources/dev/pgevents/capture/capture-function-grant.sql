-- Only the triggers call the capture function: firing a trigger needs no EXECUTE
-- privilege, and without it no other role can attach the function to a table of its own
-- (which would let it write audit rows with the privileges of the function's owner).
REVOKE EXECUTE ON FUNCTION {{capture_function}}() FROM PUBLIC
