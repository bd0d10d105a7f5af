"""Every sentence the knowledge layer writes for residents, in one place to review (French)."""

SUGGESTIONS_INTRO = "Votre question porte peut-être sur l'un de ces sujets :"
