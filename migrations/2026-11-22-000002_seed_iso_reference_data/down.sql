DELETE FROM languages;
DELETE FROM countries;
