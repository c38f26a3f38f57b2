/* Random container names, "adjective_scientist", like Docker's. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "state/container.h"
#include "util/fs.h"
#include "util/xalloc.h"

static const char *const adjectives[] = {
	"admiring",  "agile",	  "amazing",   "bold",	    "brave",	 "bright",   "busy",
	"calm",	     "careful",	  "clever",    "cool",	    "curious",	 "daring",   "dazzling",
	"eager",     "elated",	  "elegant",   "epic",	    "fervent",	 "festive",  "focused",
	"friendly",  "gallant",	  "gentle",    "gifted",    "great",	 "happy",    "hopeful",
	"humble",    "jolly",	  "keen",      "kind",	    "lucid",	 "lucky",    "magical",
	"mellow",    "merry",	  "modest",    "nervous",   "nice",	 "nimble",   "noble",
	"patient",   "peaceful",  "pensive",   "placid",    "pleasant",	 "proud",    "quick",
	"quirky",    "relaxed",	  "resolute",  "serene",    "sharp",	 "silly",    "sleepy",
	"stoic",     "sweet",	  "tender",    "thirsty",   "trusting",	 "upbeat",   "vibrant",
	"vigilant",  "wizardly",  "wonderful", "youthful",  "zealous",	 "zen",
};

static const char *const scientists[] = {
	"agnesi",    "archimedes", "babbage",	 "banach",     "bardeen",    "bell",
	"bohr",	     "boole",	   "borg",	 "bose",       "cannon",     "carson",
	"chandrasekhar", "cori",   "curie",	 "darwin",     "dijkstra",   "dirac",
	"einstein",  "euclid",	   "euler",	 "faraday",    "fermat",     "fermi",
	"feynman",   "franklin",   "galileo",	 "gauss",      "goldberg",   "goodall",
	"hamilton",  "hawking",	   "heisenberg", "hertz",      "hodgkin",    "hopper",
	"hypatia",   "johnson",	   "joliot",	 "kalam",      "kepler",     "knuth",
	"kowalevski", "lamarr",	   "leavitt",	 "liskov",     "lovelace",   "maxwell",
	"meitner",   "mendel",	   "mirzakhani", "morse",      "napier",     "newton",
	"nobel",     "noether",	   "pascal",	 "pasteur",    "planck",     "poincare",
	"ramanujan", "ride",	   "ritchie",	 "rosalind",   "sagan",	     "shannon",
	"snyder",    "tesla",	   "thompson",	 "torvalds",   "turing",     "volta",
	"wiles",     "wozniak",	   "wu",	 "yalow",
};

char *container_random_name(struct container_store *cs)
{
	for (int attempt = 0;; attempt++) {
		unsigned int r[2];
		if (getrandom(r, sizeof(r), 0) != sizeof(r))
			r[0] = r[1] = (unsigned)attempt * 7919u;
		const char *a = adjectives[r[0] % (sizeof(adjectives) / sizeof(adjectives[0]))];
		const char *s = scientists[r[1] % (sizeof(scientists) / sizeof(scientists[0]))];
		/* Docker adds a digit once names start colliding. */
		char *name = attempt < 3 ? xasprintf("%s_%s", a, s)
					 : xasprintf("%s_%s%u", a, s, r[0] % 10);
		if (!fs_exists_at(cs->names_fd, name))
			return name;
		free(name);
	}
}
