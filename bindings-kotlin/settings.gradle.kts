rootProject.name = "streamrelay"
