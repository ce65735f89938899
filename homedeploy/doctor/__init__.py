"""doctor: the rules that predict Heroku build and boot failures, their codes and their fixes."""
