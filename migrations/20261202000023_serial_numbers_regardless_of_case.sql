-- A robot's serial number is unique regardless of case from now on: its claim holds the number
-- in capitals. Existing claims are put in capitals, except where two robots registered before
-- this already hold numbers differing only by case: both keep theirs as they are (history is
-- not rewritten).
UPDATE unique_claims c
   SET value = upper(c.value)
 WHERE c.aggregate_type = 'Robot'
   AND c.field = 'serial_number'
   AND c.value <> upper(c.value)
   AND NOT EXISTS (SELECT FROM unique_claims o
                    WHERE o.aggregate_type = c.aggregate_type AND o.field = c.field
                      AND o.aggregate_id <> c.aggregate_id AND upper(o.value) = upper(c.value));
